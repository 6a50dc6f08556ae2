# Go may be installed without being on PATH (as in /usr/local/go).
export PATH := $(PATH):/usr/local/go/bin

GO ?= go
NGINX_PORT ?= 8080

.PHONY: build test demo demo-down

build: ; $(GO) build -o bin/composer ./cmd/composer

# End-to-end packages run the built binary against the real engine. Their
# time goes to containers, and the race detector, which watches only the
# test process, not the binary it runs, would find nothing there while
# slowing the rest. Everything else, including packages added later, runs
# with -race: engine/docker too, which the detector does not slow
# measurably, since it waits on the engine.
E2E_PKGS = $(shell $(GO) list ./tests/... ./examples/...)
RACE_PKGS = $(filter-out $(E2E_PKGS),$(shell $(GO) list ./...))

# Both sets run even if the first fails, so one run shows every failure;
# the target fails if either does.
test:
	@rc=0; \
	$(GO) test -race -count=1 -timeout 8m $(RACE_PKGS) || rc=1; \
	$(GO) test -count=1 -timeout 20m $(E2E_PKGS) || rc=1; \
	exit $$rc

# Starts examples/flask-redis-nginx: public images where a registry answers,
# local Debian-package stand-ins otherwise (the script says which).
demo: build
	NGINX_PORT=$(NGINX_PORT) scripts/demo.sh up

demo-down: build
	NGINX_PORT=$(NGINX_PORT) scripts/demo.sh down
