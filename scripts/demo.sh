#!/usr/bin/env bash
# Runs the flask-redis-nginx example with bin/composer (the Makefile's demo
# and demo-down targets).
#
#   scripts/demo.sh up     make sure the images exist, start the stack, wait
#                          until it is healthy, print the URL and a response
#   scripts/demo.sh down   stop and remove the stack (the count is kept)
#
# Images: the public ones (python, redis, nginx) when they are present or a
# registry answers `docker pull`; otherwise local stand-ins built from
# Debian's packages by examples/local-images/build.sh, used through
# compose.local.yaml. DEMO_IMAGES=public or DEMO_IMAGES=local forces a path.
#
# Environment: NGINX_PORT (host port, default 8080), COMPOSER (binary,
# default bin/composer).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
example="$root/examples/flask-redis-nginx"
composer=${COMPOSER:-$root/bin/composer}
port=${NGINX_PORT:-8080}
export NGINX_PORT=$port
public_images=(python:3.12-slim redis:7.4-alpine nginx:1.27-alpine)

say() { printf '==> %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

[[ -x "$composer" ]] || die "$composer not found; run 'make build' first"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (docker info failed)"

# Prints nothing and succeeds when every public image is present or could be
# pulled; otherwise prints why not.
public_images_missing() {
	local img out
	for img in "${public_images[@]}"; do
		docker image inspect "$img" >/dev/null 2>&1 && continue
		say "pulling $img" >&2
		if ! out=$(timeout 120 docker pull -q "$img" 2>&1); then
			printf 'docker pull %s failed: %s\n' "$img" "$(printf '%s' "$out" | tail -n1)"
			return 0
		fi
	done
}

case "${1:-up}" in
up)
	mode=${DEMO_IMAGES:-auto}
	if [[ "$mode" == auto ]]; then
		why=$(public_images_missing)
		if [[ -z "$why" ]]; then
			mode=public
		else
			say "no registry: $why"
			mode=local
		fi
	fi
	files=(-f compose.yaml)
	if [[ "$mode" == local ]]; then
		say "using LOCAL stand-in images built from Debian packages (examples/local-images/build.sh; cached after the first run)"
		"$root/examples/local-images/build.sh"
		files+=(-f compose.local.yaml)
	else
		say "using the PUBLIC images (python, redis, nginx); the app image is built from examples/flask-redis-nginx/app"
	fi
	cd "$example"
	say "composer ${files[*]} up -d --wait   (in examples/flask-redis-nginx)"
	"$composer" "${files[@]}" up -d --wait
	url="http://localhost:$port/"
	say "the visit counter is up at $url"
	say "curl $url"
	# --wait has seen nginx's healthcheck pass; the retries only cover the
	# engine's port forwarding lagging behind it.
	if command -v curl >/dev/null; then
		curl -fsS --retry 10 --retry-all-errors --retry-delay 1 "$url"
	else
		python3 - "$url" <<'PY'
import sys, time, urllib.request
for attempt in range(10):
    try:
        print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode(), end="")
        break
    except OSError:
        if attempt == 9:
            raise
        time.sleep(1)
PY
	fi
	say "stop it with: make demo-down   (the count survives; add -v to composer down to reset it)"
	;;
down)
	cd "$example"
	"$composer" -f compose.yaml down
	;;
*)
	die "usage: $0 up|down"
	;;
esac
