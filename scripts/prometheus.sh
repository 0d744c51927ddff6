#!/usr/bin/env bash
# Makes sure Prometheus's tools are on PATH for the alert-rule and dashboard tests (test/deploy): promtool
# and a real prometheus, from Debian's `prometheus` package. Installs it as root with apt-get; otherwise
# fails naming what is missing and the command that installs it.
#   scripts/prometheus.sh ensure
set -euo pipefail

say() { echo "prometheus: $*" >&2; }
have() { command -v promtool >/dev/null && command -v prometheus >/dev/null; }

case "${1:-}" in
  ensure)
    have && exit 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      say "promtool or prometheus missing; installing Debian's prometheus package"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
        || { say "ERROR: apt-get install prometheus failed"; exit 1; }
      have || { say "ERROR: the prometheus package installed no promtool/prometheus on PATH"; exit 1; }
      say "ready: $(promtool --version 2>&1 | head -1)"
    else
      say "ERROR: promtool and prometheus are needed by the tests (test/deploy) and missing from PATH."
      say "Install them with: sudo apt-get install prometheus   (Debian/Ubuntu), or put Prometheus 2.x's binaries on PATH."
      exit 1
    fi
    ;;
  *) echo "usage: $0 ensure" >&2; exit 2 ;;
esac
