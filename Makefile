# Go may be installed without being on PATH (as in /usr/local/go).
export PATH := $(PATH):/usr/local/go/bin

GO ?= go
NGINX_PORT ?= 8080

.PHONY: build test demo demo-down

build: ; $(GO) build -o bin/composer ./cmd/composer

test: ; $(GO) test -count=1 -timeout 25m ./...

# Starts examples/flask-redis-nginx: public images where a registry answers,
# local Debian-package stand-ins otherwise (the script says which).
demo: build
	NGINX_PORT=$(NGINX_PORT) scripts/demo.sh up

demo-down: build
	NGINX_PORT=$(NGINX_PORT) scripts/demo.sh down
