#!/usr/bin/env bash
# The local services mau needs: its own MariaDB (scripts/mariadb.sh) and a Kafka broker, and with --tests
# Prometheus's tools. Used by the demo, the tests' setup and .ci/run. What is missing of Debian's packages is
# named at once (installed when run as root) before anything starts.
#   scripts/services.sh start [--tests] | stop | status | packages [--tests]
set -euo pipefail
here=$(dirname "$0")

packages() {
  local needed=("$(bash "$here/mariadb.sh" needs)" 'openjdk-17-jre-headless|openjdk-21-jre-headless=java' maven=mvn)
  # promtool and a real Prometheus for test/deploy, h2load for the serve benchmark test/bench runs small,
  # faketime (libfaketime) for the tests that run the CLI at a chosen instant, redis-server for the Redis
  # Streams source's (each test starts its own on a free port: test/helpers/redis-server.ts).
  [[ ${1:-} == --tests ]] && needed+=(prometheus=promtool,prometheus nghttp2-client=h2load faketime=faketime redis-server=redis-server)
  bash "$here/debian-package.sh" "${needed[@]}"
}

case "${1:-}" in
  start) packages "${2:-}" && bash "$here/mariadb.sh" start && bash "$here/kafka.sh" start ;;
  stop) bash "$here/kafka.sh" stop; bash "$here/mariadb.sh" stop ;;
  packages) packages "${2:-}" ;;
  status) rc=0; bash "$here/mariadb.sh" status || rc=$?; bash "$here/kafka.sh" status || rc=$?; exit $rc ;;
  *) echo "usage: $0 start [--tests] | stop | status | packages [--tests]" >&2; exit 2 ;;
esac
