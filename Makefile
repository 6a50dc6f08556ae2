# Go may be installed without being on PATH (as in /usr/local/go).
export PATH := $(PATH):/usr/local/go/bin

GO ?= go
NGINX_PORT ?= 8080

# What the binary says it is: the nearest tag and the commits since, or
# v0.0.0-<commit> before the first tag; -dirty for uncommitted changes.
VERSION ?= $(shell git describe --tags --dirty 2>/dev/null || echo v0.0.0-$$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$$(git diff --quiet HEAD 2>/dev/null || echo -dirty))
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS = -X main.Version=$(VERSION) -X main.Commit=$(COMMIT)

# Installation. PREFIX holds bin/ and the shell completions; DESTDIR is
# prepended for packaging. NAME is the installed command's name: composer,
# unless it clashes with another composer (PHP's) on PATH. The plugin goes
# where the Docker CLI looks for plugins, under DOCKER_CONFIG.
PREFIX ?= /usr/local
NAME ?= composer
DOCKER_CONFIG ?= $(HOME)/.docker
BINDIR = $(DESTDIR)$(PREFIX)/bin
BASHDIR = $(DESTDIR)$(PREFIX)/share/bash-completion/completions
ZSHDIR = $(DESTDIR)$(PREFIX)/share/zsh/site-functions
FISHDIR = $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
PLUGINDIR = $(DOCKER_CONFIG)/cli-plugins

.PHONY: build test stress demo demo-down install uninstall install-plugin uninstall-plugin

build: ; $(GO) build -ldflags "$(LDFLAGS)" -o bin/composer ./cmd/composer

# The completions are made by the installed binary under its own name, so
# they complete NAME, whatever it is.
install: build
	@# Packaging (DESTDIR) installs for another machine: its PATH is not ours.
	@[ -n "$(DESTDIR)" ] || scripts/name-clash.sh "$(NAME)" "$(BINDIR)"
	install -d "$(BINDIR)" "$(BASHDIR)" "$(ZSHDIR)" "$(FISHDIR)"
	install -m 0755 bin/composer "$(BINDIR)/$(NAME)"
	"$(BINDIR)/$(NAME)" completion bash > "$(BASHDIR)/$(NAME)"
	"$(BINDIR)/$(NAME)" completion zsh > "$(ZSHDIR)/_$(NAME)"
	"$(BINDIR)/$(NAME)" completion fish > "$(FISHDIR)/$(NAME).fish"

uninstall:
	rm -f "$(BINDIR)/$(NAME)" "$(BASHDIR)/$(NAME)" "$(ZSHDIR)/_$(NAME)" "$(FISHDIR)/$(NAME).fish"

# docker composer ...: the same binary, answering the Docker CLI's plugin
# protocol when it is called docker-composer.
install-plugin: build
	install -d "$(PLUGINDIR)"
	install -m 0755 bin/composer "$(PLUGINDIR)/docker-composer"

uninstall-plugin:
	rm -f "$(PLUGINDIR)/docker-composer"

# End-to-end packages run the built binary against the real engine. Their
# time goes to containers, and the race detector, which watches only the
# test process, not the binary it runs, would find nothing there while
# slowing the rest. Everything else, including packages added later, runs
# with -race: engine/docker too, which the detector does not slow
# measurably, since it waits on the engine.
# The swarm tests turn the engine into a one-node swarm for their run and
# leave it again: they run alone, after the others, which need a plain
# engine.
SWARM_PKGS = $(shell $(GO) list ./tests/swarm/...)
E2E_PKGS = $(filter-out $(SWARM_PKGS),$(shell $(GO) list ./tests/... ./examples/...))
RACE_PKGS = $(filter-out $(E2E_PKGS) $(SWARM_PKGS),$(shell $(GO) list ./...))

# Every set runs even if an earlier one fails, so one run shows every
# failure; the target fails if any does.
test:
	@rc=0; \
	$(GO) test -race -count=1 -timeout 8m $(RACE_PKGS) || rc=1; \
	$(GO) test -count=1 -timeout 20m $(E2E_PKGS) || rc=1; \
	$(GO) test -count=1 -timeout 10m $(SWARM_PKGS) || rc=1; \
	exit $$rc

# Random interrupt trials: SIGINT or SIGKILL during up -d or down, then
# the next up and down must recover. make test runs 8; this runs
# TRIALS (50). COMPOSER_TRIAL_SEED=N replays a run.
TRIALS ?= 50
# The full log, with each trial's commands and output, goes to
# bin/stress.log; the summary to the terminal.
stress:
	@mkdir -p bin; rc=0; \
	COMPOSER_TRIALS=$(TRIALS) $(GO) test -count=1 -timeout 90m -run 'TestInterruptTrials' -v ./tests/e2e/ > bin/stress.log 2>&1 || rc=1; \
	grep -E '^\s+--- |^(ok|FAIL|PASS)|seed' bin/stress.log; \
	echo "full log: bin/stress.log"; exit $$rc

# Starts examples/flask-redis-nginx: public images where a registry answers,
# local Debian-package stand-ins otherwise (the script says which).
demo: build
	NGINX_PORT=$(NGINX_PORT) scripts/demo.sh up

demo-down: build
	NGINX_PORT=$(NGINX_PORT) scripts/demo.sh down

# composer watch: how soon an edited file is visible in the container
# (p50/p95/max over a burst of 100 edits, single edits, and the engine's
# own copy as the floor) and the watcher's CPU while idle. See
# bench/README.md, "watch".
.PHONY: bench-watch
bench-watch: build
	$(GO) run ./bench/cmd/watchbench
