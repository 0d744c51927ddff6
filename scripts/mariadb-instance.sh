#!/usr/bin/env bash
# MariaDB servers beside the machine's, from the same Debian package, each with its own port and data
# directory under .cache/mariadb-instances/NAME: mau's own for the demo and the tests (scripts/mariadb.sh), and
# for the tests of what production's MySQL does (a primary with an asynchronous replica, a failover, a server
# that requires TLS). SQL for an instance: mariadb --socket=DIR/mariadbd.sock. Binary log and GTIDs are on, so any
# instance can be a primary or a replica.
#   scripts/mariadb-instance.sh start NAME PORT [mariadbd option ...]   fresh data directory, root without password
#   scripts/mariadb-instance.sh stop NAME                               shuts it down (SIGKILL if it does not go)
#   scripts/mariadb-instance.sh kill NAME                               SIGKILL: a server that dies
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "mariadb-instance: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

name=${2:-}
[[ -n $name && $name =~ ^[a-z0-9-]+$ ]] || { echo "usage: $0 start NAME PORT [option ...] | stop NAME | kill NAME" >&2; exit 2; }
dir="$root/.cache/mariadb-instances/$name"
pidfile="$dir/mariadbd.pid"

running() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  local port=${3:-}
  [[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got '${port}'"
  command -v mariadb-install-db >/dev/null || die "mariadb-install-db is missing (Debian package mariadb-server)"
  [[ -x /usr/sbin/mariadbd ]] || die "/usr/sbin/mariadbd is missing (Debian package mariadb-server)"
  running && stop_it TERM
  rm -rf "$dir" && mkdir -p "$dir/data" "$dir/tmp"
  # Each instance's temporary files in its own directory: in a full test run, one bootstrap sharing /tmp with
  # the others found its temporary table (/tmp/#sql-temptable-PID-...) gone and aborted.
  mariadb-install-db --no-defaults --user=root --datadir="$dir/data" --tmpdir="$dir/tmp" \
    --auth-root-authentication-method=normal >"$dir/install.log" 2>&1 \
    || die "mariadb-install-db failed: see $dir/install.log"
  # server_id from the port: unique among the instances, never the machine server's 1.
  /usr/sbin/mariadbd --no-defaults --user=root --datadir="$dir/data" --tmpdir="$dir/tmp" --port="$port" --bind-address=127.0.0.1 \
    --socket="$dir/mariadbd.sock" --pid-file="$pidfile" --log-error="$dir/error.log" --server-id="$port" \
    --log-bin="$dir/data/binlog" --log-slave-updates=ON --binlog-format=ROW --skip-name-resolve \
    --innodb-buffer-pool-size=64M --innodb-log-file-size=48M --innodb-flush-log-at-trx-commit=2 --max-connections=200 \
    "${@:4}" >/dev/null 2>&1 &
  for _ in $(seq 1 120); do
    mariadb-admin --no-defaults --socket="$dir/mariadbd.sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.25
  done
  # Over its socket: an instance may refuse TCP without TLS (--require-secure-transport=ON).
  mariadb-admin --no-defaults --socket="$dir/mariadbd.sock" -uroot ping >/dev/null 2>&1 \
    || die "the instance $name did not answer on 127.0.0.1:$port within 30s: see $dir/error.log"
  # mariadb-install-db's anonymous users would shadow a user connecting from 127.0.0.1.
  mariadb --no-defaults --socket="$dir/mariadbd.sock" -uroot -e "SET SESSION sql_log_bin = 0; DELETE FROM mysql.global_priv WHERE User = ''; FLUSH PRIVILEGES; CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'; GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;" \
    || die "could not prepare the instance $name"
  say "$name ready on 127.0.0.1:$port (data $dir/data)"
}

stop_it() {
  local sig=$1
  running || return 0
  local pid
  pid=$(cat "$pidfile")
  kill -"$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  kill -KILL "$pid" 2>/dev/null || true
}

case "${1:-}" in
  start) start "$@" ;;
  stop) stop_it TERM; say "$name stopped" ;;
  kill) stop_it KILL; say "$name killed" ;;
  *) echo "usage: $0 start NAME PORT [option ...] | stop NAME | kill NAME" >&2; exit 2 ;;
esac
