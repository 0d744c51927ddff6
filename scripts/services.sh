#!/usr/bin/env bash
# The local services mau needs: MariaDB and a Kafka broker, and Prometheus's tools for the tests. Used by the
# README, the tests' setup and .ci/run; faketime for the tests that set the clock.
#   scripts/services.sh start|stop|status
set -euo pipefail
here=$(dirname "$0")
case "${1:-}" in
  # faketime (libfaketime): the tests that run the CLI at a chosen instant (test/report/clock.int.test.ts).
  start) bash "$here/mariadb.sh" start && bash "$here/kafka.sh" start && bash "$here/prometheus.sh" ensure && bash "$here/debian-package.sh" faketime faketime ;;
  stop) bash "$here/kafka.sh" stop; bash "$here/mariadb.sh" stop ;;
  status) rc=0; bash "$here/mariadb.sh" status || rc=$?; bash "$here/kafka.sh" status || rc=$?; exit $rc ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
