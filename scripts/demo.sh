#!/usr/bin/env bash
# The whole pipeline on local defaults, from a fresh checkout: install, start mau's own MariaDB and a Kafka
# broker, migrate a demo database, produce sample events, consume them, and print this month's MAU. Safe to
# re-run: it starts from an empty demo database and topic each time. Nothing to configure; the Debian packages
# it needs are installed when run as root, named otherwise (scripts/services.sh).
#   MAU_DEMO_MYSQL_URL, else MAU_MYSQL_URL's server (database mau_demo): another MariaDB or MySQL than mau's own
#   MAU_KAFKA_PORT (9092): the port of the demo's broker
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
if [[ -n ${MAU_DEMO_MYSQL_URL:-} ]]; then export MAU_MYSQL_URL=$MAU_DEMO_MYSQL_URL
elif [[ -n ${MAU_MYSQL_URL:-} ]]; then export MAU_MYSQL_URL=${MAU_MYSQL_URL%%\?*}; MAU_MYSQL_URL=${MAU_MYSQL_URL%/*}/mau_demo
else export MAU_MYSQL_URL=$(bash scripts/mariadb.sh url mau_demo); fi
export MAU_KAFKA_BROKERS=127.0.0.1:${MAU_KAFKA_PORT:-9092}
topic=mau-demo-user-events

# Whatever happens below, say what runs on and how to stop it: nothing the demo started outlives it unseen.
left_running() {
  local settings
  settings=$(env | grep -E '^MAU_(MARIADB_INSTANCE|MARIADB_PORT|KAFKA_PORT)=' | sort | sed 's/^/ /' | tr -d '\n' || true)
  echo
  echo "Left running (stop what mau started with:$settings npm run services:stop):"
  bash scripts/services.sh status 2>&1 | sed 's/^/  /' || true
}

# The services first: a missing Debian package stops the demo at once, naming it (installed as root).
trap left_running EXIT
bash scripts/services.sh start
[[ -d node_modules ]] || npm ci --no-audit --no-fund
# Built unless dist/ is newer than every source. The demo's test sets MAU_DEMO_BUILT=1: npm test built dist/
# already, and a rebuild there would take it from under the other test files running beside it.
if [[ ${MAU_DEMO_BUILT:-} == 1 ]]; then
  [[ -f dist/commands/count.js ]] || { echo "demo: MAU_DEMO_BUILT=1 but there is no dist/: run npm run build" >&2; exit 1; }
elif [[ ! -f dist/commands/count.js || -n $(find src package.json tsconfig.build.json -newer dist/commands/count.js -print -quit) ]]; then
  npm run --silent build
fi
node -e "
  const mysql = require('mysql2/promise')
  const u = new URL(process.env.MAU_MYSQL_URL), db = decodeURIComponent(u.pathname.slice(1))
  const password = decodeURIComponent(u.password) || process.env.MAU_MYSQL_PASSWORD
  mysql.createConnection({host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password})
    .then(async (c) => { await c.query('DROP DATABASE IF EXISTS \`' + db + '\`'); await c.query('CREATE DATABASE \`' + db + '\`'); await c.end() })
"
node -e "
  const {Kafka, logLevel} = require('kafkajs');
  const a = new Kafka({brokers: process.env.MAU_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING}).admin();
  a.connect().then(() => a.deleteTopics({topics: ['$topic']}).catch(() => {})).then(() => a.disconnect());
"
sleep 1

echo; echo '$ mau db migrate'
./bin/run.js db migrate
npx tsx scripts/produce-sample.ts --topic "$topic" --events 50000
echo; echo "\$ mau consume --topic $topic --stop-at-end"
MAU_LOG_LEVEL=warn ./bin/run.js consume --topic "$topic" --stop-at-end
echo; echo '$ mau deadletter list'
./bin/run.js deadletter list
echo; echo '$ mau count --by source'
./bin/run.js count --by source
