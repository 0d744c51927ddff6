#!/usr/bin/env bash
# Makes sure the commands a test or benchmark runs are on PATH, from a Debian package: installs it as root with
# apt-get; otherwise fails naming what is missing and the command that installs it.
#   scripts/debian-package.sh PACKAGE COMMAND...     e.g. prometheus promtool prometheus; nghttp2-client h2load
set -euo pipefail
package=${1:?usage: $0 PACKAGE COMMAND...}
shift
say() { echo "$package: $*" >&2; }
have() { for c in "$@"; do command -v "$c" >/dev/null || return 1; done; }

have "$@" && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  say "$* missing; installing Debian's $package package"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null \
    || { say "ERROR: apt-get install $package failed"; exit 1; }
  have "$@" || { say "ERROR: the $package package installed no $* on PATH"; exit 1; }
  say "ready: $*"
else
  say "ERROR: $* needed and missing from PATH."
  say "Install with: sudo apt-get install $package   (Debian/Ubuntu)"
  exit 1
fi
