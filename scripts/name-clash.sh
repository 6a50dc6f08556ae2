#!/usr/bin/env bash
# Warns, at install, when the command about to be installed would clash
# with another program of the same name: PHP's Composer is called composer
# too, and many developers have it on their PATH.
#
#   scripts/name-clash.sh NAME BINDIR
#
# It never fails the install: it says which program a shell will run and
# how to avoid the clash (make install NAME=..., or the Docker CLI plugin).
set -uo pipefail

name=$1
bindir=$2
target="$bindir/$name"

existing=$(command -v "$name" 2>/dev/null || true)
[[ -z "$existing" ]] && exit 0
# Reinstalling over our own binary is no clash.
[[ "$(readlink -f "$existing")" == "$(readlink -f "$target" 2>/dev/null)" ]] && exit 0
# The whole output is read before it is looked at: grep -q would stop
# reading at the first line, and under pipefail the program's SIGPIPE on
# its next line would count as a failure.
if "$existing" version --short >/dev/null 2>&1 && [[ "$("$existing" version 2>/dev/null)" == "composer version"* ]]; then
	exit 0 # another install of this program, elsewhere on PATH
fi

what="another program"
if head -c 200 "$existing" 2>/dev/null | grep -qi 'php' || "$existing" --version 2>/dev/null | grep -q '^Composer version'; then
	what="PHP's Composer"
fi
cat >&2 <<MSG
warning: $what is installed as $existing.
  Installing this program as $target; whichever comes first on PATH
  will run when you type '$name'.
  To avoid the clash, install under another name:
      make install NAME=composer-docker
  or use it only through the Docker CLI, which needs no name on PATH:
      make install-plugin      # then: docker composer up
MSG
exit 0
