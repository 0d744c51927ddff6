#!/usr/bin/env bash
# The MariaDB the demo and the tests use. By default mau's own server (scripts/mariadb-instance.sh, from Debian's
# mariadb-server): instance MAU_MARIADB_INSTANCE (local) under .cache/mariadb-instances/, on 127.0.0.1 port
# MAU_MARIADB_PORT (13316), root without password. The machine's own MariaDB is never started, stopped or used:
# on Debian it lets root in only through its socket, and elsewhere 3306 often belongs to another project.
# With MAU_MYSQL_URL naming another server, that one is used instead and nothing is started.
#   scripts/mariadb.sh start    starts the instance unless it runs (reused), creates the database of MAU_MYSQL_URL (test)
#   scripts/mariadb.sh stop     stops the instance if it runs, whoever started it
#   scripts/mariadb.sh status   exit 3 when it does not answer
#   scripts/mariadb.sh url [DATABASE]   the instance's URL (database test)
#   scripts/mariadb.sh needs    the Debian packages start needs, for scripts/debian-package.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
instance=${MAU_MARIADB_INSTANCE:-local}
port=${MAU_MARIADB_PORT:-13316}
dir="$root/.cache/mariadb-instances/$instance"
own_url() { echo "mysql://root@127.0.0.1:$port/${1:-test}"; }
url=${MAU_MYSQL_URL:-$(own_url)}

say() { echo "mariadb: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# mysql://user[:password]@host[:port]/database[?...]
rest=${url#*://}; rest=${rest%%\?*}
database=${rest#*/}; [[ $rest == */* && -n $database ]] || database=test
authority=${rest%%/*}
userinfo=root; [[ $authority == *@* ]] && userinfo=${authority%@*}
hostport=${authority##*@}
host=${hostport%:*}; url_port=3306; [[ $hostport == *:* ]] && url_port=${hostport##*:}
user=${userinfo%%:*}
password=${MAU_MYSQL_PASSWORD:-}; [[ $userinfo == *:* ]] && password=${userinfo#*:}
[[ $host == 127.0.0.1 || $host == localhost ]] && [[ $url_port == "$port" ]] && own=1 || own=

sql() {
  if [[ -n $own ]]; then mariadb --no-defaults --socket="$dir/mariadbd.sock" -uroot "$@"
  else MYSQL_PWD=$password mariadb --no-defaults --protocol=tcp -h"$host" -P"$url_port" -u"$user" "$@"; fi
}
pid() { [[ -f $dir/mariadbd.pid ]] && kill -0 "$(cat "$dir/mariadbd.pid")" 2>/dev/null && cat "$dir/mariadbd.pid"; }
# Over TCP, as mau connects: a server of this instance in another network namespace answers its socket only.
answers() { mariadb-admin --no-defaults --protocol=tcp -h127.0.0.1 -P"$port" -uroot --connect-timeout=2 ping >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

needs() { if [[ -n $own ]]; then echo mariadb-server=mariadbd,mariadb-install-db,mariadb,mariadb-admin; else echo mariadb-client=mariadb; fi; }

start() {
  bash "$root/scripts/debian-package.sh" "$(needs)"
  if [[ -z $own ]]; then
    sql -e "CREATE DATABASE IF NOT EXISTS \`$database\`" \
      || die "the MariaDB of MAU_MYSQL_URL ($host:$url_port, user $user) refused or did not answer; fix MAU_MYSQL_URL or unset it to use mau's own server"
    say "using $host:$url_port (MAU_MYSQL_URL; not started by mau), database $database"
    return
  fi
  local p
  if p=$(pid); then
    answers || die "the instance $instance runs (pid $p) but does not answer on 127.0.0.1:$port (another network namespace, or another MAU_MARIADB_PORT); stop it with npm run services:stop"
  else
    port_open && die "port $port is taken by a process mau did not start; stop it or set MAU_MARIADB_PORT"
    # Like the machine's server (no binary log, durable commits, its buffer pool), so tests and benchmarks
    # measure what they measured there; later options override mariadb-instance.sh's.
    bash "$root/scripts/mariadb-instance.sh" start "$instance" "$port" --skip-log-bin \
      --innodb-flush-log-at-trx-commit=1 --innodb-buffer-pool-size=128M
  fi
  sql -e "CREATE DATABASE IF NOT EXISTS \`$database\`" || die "could not create database $database"
  say "ready on 127.0.0.1:$port (mau's own, pid $(pid), data $dir/data), database $database"
}

stop() {
  if pid >/dev/null; then bash "$root/scripts/mariadb-instance.sh" stop "$instance"
  else say "mau's own server ($instance) is not running"; fi
}

status() {
  local p
  if [[ -z $own ]]; then
    if sql -e 'SELECT 1' >/dev/null 2>&1; then say "using $host:$url_port (MAU_MYSQL_URL; not started by mau)"; else say "$host:$url_port (MAU_MYSQL_URL) does not answer"; return 3; fi
  fi
  if p=$(pid) && answers; then say "mau's own server running (pid $p) on 127.0.0.1:$port, data $dir/data"
  elif [[ -n $own ]]; then say "mau's own server not running on 127.0.0.1:$port"; return 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) own_url "${2:-}" ;;
  needs) needs ;;
  *) echo "usage: $0 start|stop|status|url [DATABASE]|needs" >&2; exit 2 ;;
esac
