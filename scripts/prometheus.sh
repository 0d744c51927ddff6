#!/usr/bin/env bash
# Makes sure Prometheus's tools are on PATH for the alert-rule and dashboard tests (test/deploy): promtool
# and a real prometheus, from Debian's `prometheus` package (scripts/debian-package.sh).
#   scripts/prometheus.sh ensure
set -euo pipefail
case "${1:-}" in
  ensure)
    bash "$(dirname "$0")/debian-package.sh" prometheus promtool prometheus
    ;;
  *) echo "usage: $0 ensure" >&2; exit 2 ;;
esac
