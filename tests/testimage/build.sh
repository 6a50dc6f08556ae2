#!/bin/sh
# Builds the end-to-end test image (default composer-test/app:latest).
# Usage: tests/testimage/build.sh [TAG]
set -eu
cd "$(dirname "$0")"
exec go run ./cmd/build "$@"
