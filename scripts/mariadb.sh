#!/usr/bin/env bash
# Makes sure the machine's MariaDB answers on 127.0.0.1:3306 and that the database of MAU_MYSQL_URL exists.
#   scripts/mariadb.sh start|stop|status
# `stop` stops the server only if `start` had to start it (marker in .cache/), never one it found running.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
marker="$root/.cache/mariadb.started-by-mau"
url=${MAU_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
database=${url##*/}
database=${database%%\?*}

say() { echo "mariadb: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
ping() { mariadb-admin --protocol=tcp -h127.0.0.1 -P3306 -uroot ping >/dev/null 2>&1; }

start() {
  if ! ping; then
    command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || die "MariaDB is not installed (/usr/sbin/mariadbd missing)"
    say "not answering; starting it"
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    mkdir -p "$(dirname "$marker")" && touch "$marker"
    # Repeated because a server still shutting down makes --oknodo a no-op; once it is gone this starts it.
    for _ in $(seq 1 60); do
      start-stop-daemon --start --oknodo --quiet --background --exec /usr/sbin/mariadbd
      sleep 0.5
      ping && break
    done
    ping || die "MariaDB did not answer on 127.0.0.1:3306 within 30s"
  fi
  mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot -e "CREATE DATABASE IF NOT EXISTS \`$database\`" \
    || die "could not create database $database"
  say "ready on 127.0.0.1:3306, database $database"
}

stop() {
  if [[ -f $marker ]]; then
    mariadb-admin --protocol=tcp -h127.0.0.1 -P3306 -uroot shutdown || true
    for _ in $(seq 1 60); do pgrep -x mariadbd >/dev/null || break; sleep 0.5; done
    rm -f "$marker"
    say "stopped"
  else
    say "left running (it was not started by this script)"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if ping; then say "running"; else say "not running"; exit 3; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
