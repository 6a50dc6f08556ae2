#!/usr/bin/env bash
# Builds a local image made of Debian packages that stands in for the public
# python, redis and nginx images of examples/flask-redis-nginx, for machines
# that cannot reach a container registry but can reach a Debian mirror.
#
# It is not the official images: it is one minimal Debian root filesystem
# (debootstrap --variant=minbase) with python3-flask, python3-redis,
# redis-server and nginx-light installed, imported with `docker import`.
# examples/flask-redis-nginx/compose.local.yaml points the services at it.
#
# Cached twice: the root filesystem tarball is kept in the cache directory,
# and nothing is done when the image with the same recipe already exists.
#
# Environment:
#   LOCAL_IMAGE          tag to create (default below)
#   DEBIAN_SUITE         Debian suite (default bookworm)
#   DEBIAN_MIRROR        mirror URL (default: the first one apt is set up with)
#   COMPOSER_CACHE_DIR   cache directory (default $XDG_CACHE_HOME/composer)
#   FORCE=1              rebuild the root filesystem even if cached
set -euo pipefail

suite=${DEBIAN_SUITE:-bookworm}
image=${LOCAL_IMAGE:-composer-local/debian-flask-redis-nginx:$suite}
cache_dir=${COMPOSER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/composer}
# python3 runs the app and the app's healthcheck; redis-server brings
# redis-cli (redis-tools) for the redis healthcheck.
packages=python3,python3-flask,python3-redis,redis-server,nginx-light

log() { printf 'local-images: %s\n' "$*" >&2; }

# The recipe hash names the cached tarball and labels the image, so a change
# to the suite or the package list builds a new one instead of reusing a stale one.
recipe="suite=$suite variant=minbase packages=$packages layout=1"
recipe_hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-12)
tarball="$cache_dir/debian-$suite-flask-redis-nginx-$recipe_hash.tar"
label_key=dev.composer.local.recipe

if ! command -v docker >/dev/null; then
	log "docker CLI not found"
	exit 1
fi

have=$(docker image inspect -f "{{index .Config.Labels \"$label_key\"}}" "$image" 2>/dev/null || true)
if [[ "$have" == "$recipe_hash" && "${FORCE:-}" != 1 ]]; then
	log "image $image is present (recipe $recipe_hash); nothing to do"
	exit 0
fi

# apt's own sources say which mirror this machine can reach; debootstrap does
# not read them, so pass the first matching one on.
find_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[[ -r "$f" ]] || continue
		awk -v suite="$suite" '
			/^[[:space:]]*$/ { if (uri != "" && hit) { print uri; exit } uri = ""; hit = 0; next }
			/^URIs:/ { uri = $2 }
			/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
			END { if (uri != "" && hit) print uri }
		' "$f" | head -n1
	done
	if [[ -r /etc/apt/sources.list ]]; then
		awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2; exit }' /etc/apt/sources.list
	fi
}

build_rootfs() {
	if ! command -v debootstrap >/dev/null; then
		if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
			log "installing debootstrap with apt-get"
			apt-get update -qq
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
		else
			log "debootstrap is missing; install it (apt-get install debootstrap) and run again as root"
			exit 1
		fi
	fi
	if [[ $(id -u) -ne 0 ]]; then
		log "debootstrap needs root; run this script as root (or with sudo)"
		exit 1
	fi

	local mirror=${DEBIAN_MIRROR:-$(find_mirror | head -n1)}
	local work
	mkdir -p "$cache_dir"
	work=$(mktemp -d "$cache_dir/rootfs.XXXXXX")
	# shellcheck disable=SC2064 # expand now: the trap must remove this directory
	trap "rm -rf '$work'" EXIT

	log "debootstrap $suite (minbase + $packages) from ${mirror:-the default mirror}"
	debootstrap --variant=minbase --include="$packages" "$suite" "$work/root" ${mirror:+"$mirror"} \
		>"$work/debootstrap.log" 2>&1 || {
		tail -n 30 "$work/debootstrap.log" >&2
		log "debootstrap failed"
		exit 1
	}

	local r="$work/root"
	# Logs to the container's output, as the official nginx image does.
	ln -sf /dev/stdout "$r/var/log/nginx/access.log"
	ln -sf /dev/stderr "$r/var/log/nginx/error.log"
	# Debian's default site would answer on port 80 before a conf.d server.
	rm -f "$r/etc/nginx/sites-enabled/default"
	# The redis data directory of the official image.
	mkdir -p "$r/data"
	# Trim what a container never reads.
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/* \
		"$r"/usr/share/doc/* "$r"/usr/share/man/* "$r"/usr/share/info/* \
		"$r"/var/log/*.log "$r"/dev/*

	tar --numeric-owner -C "$r" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	rm -rf "$work"
	trap - EXIT
	log "root filesystem cached at $tarball ($(du -h "$tarball" | cut -f1))"
}

if [[ -f "$tarball" && "${FORCE:-}" != 1 ]]; then
	log "reusing cached root filesystem $tarball"
else
	build_rootfs
fi

log "docker import -> $image"
docker import \
	-c "LABEL $label_key=$recipe_hash" \
	-c "LABEL org.opencontainers.image.description=\"Debian $suite minbase with Debian's python3-flask, python3-redis, redis-server and nginx-light; a local stand-in for the python, redis and nginx images\"" \
	-c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
	-c 'ENV LANG=C.UTF-8' \
	-c 'CMD ["/bin/bash"]' \
	-m "composer local image: $recipe" \
	"$tarball" "$image" >/dev/null
log "image $image is ready"
