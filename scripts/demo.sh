#!/usr/bin/env bash
# The whole pipeline on local defaults, from a fresh checkout: install, start MariaDB and Kafka, migrate a
# demo database, produce sample events, consume them, and print this month's MAU. Safe to re-run: it
# starts from an empty demo database and topic each time.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node.sh
export MAU_MYSQL_URL=${MAU_DEMO_MYSQL_URL:-mysql://root@127.0.0.1:3306/mau_demo}
topic=mau-demo-user-events

[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run --silent build
npm run --silent services:start
mariadb --protocol=tcp -h127.0.0.1 -uroot -e 'DROP DATABASE IF EXISTS mau_demo; CREATE DATABASE mau_demo'
node -e "
  const {Kafka, logLevel} = require('kafkajs');
  const a = new Kafka({brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING}).admin();
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
