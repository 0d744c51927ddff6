#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker+controller in one JVM) on 127.0.0.1 for development and tests.
# Jars come from Maven Central through the machine's Maven (scripts/kafka/pom.xml) and are cached in .cache/.
#   scripts/kafka.sh start|stop|status|logs
# Settings: MAU_KAFKA_PORT (9092), MAU_KAFKA_CONTROLLER_PORT (port+1), KAFKA_VERSION (3.9.1), KAFKA_HEAP (512m).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/maven-jars.sh"
version=${KAFKA_VERSION:-3.9.1}
port=${MAU_KAFKA_PORT:-9092}
controller_port=${MAU_KAFKA_CONTROLLER_PORT:-$((port + 1))}
libs="$root/.cache/kafka/$version/libs"
run="$root/.cache/kafka/run-$port"
pidfile="$run/kafka.pid"
logfile="$run/kafka.log"

say() { echo "kafka: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
our_pid() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"; }

write_config() {
  mkdir -p "$run/data"
  cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$run/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  cat >"$run/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

start() {
  if pid=$(our_pid); then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  port_open "$port" && die "port $port is taken by a process this script did not start; stop it or set MAU_KAFKA_PORT"
  resolve_jars "Apache Kafka $version" "$root/scripts/kafka/pom.xml" "-Dkafka.version=$version" "$libs"
  write_config
  local cp="$libs/*"
  if [[ ! -f $run/data/meta.properties ]]; then
    local id
    id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)
    java -cp "$cp" -Dlog4j.configuration="file:$run/log4j.properties" kafka.tools.StorageTool format \
      -t "$id" -c "$run/server.properties" >/dev/null || die "formatting KRaft storage in $run/data failed"
  fi
  say "starting Kafka $version on 127.0.0.1:$port (log: $logfile)"
  nohup java -Xms256m -Xmx${KAFKA_HEAP:-512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$run/log4j.properties" -cp "$cp" kafka.Kafka "$run/server.properties" \
    >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -20 "$logfile" >&2; rm -f "$pidfile"; die "the broker exited during start-up"; }
    if port_open "$port" && grep -q "Kafka Server started" "$logfile"; then
      say "ready on 127.0.0.1:$port (pid $(cat "$pidfile"))"
      return 0
    fi
    sleep 0.5
  done
  tail -20 "$logfile" >&2
  die "the broker did not become ready within 60s"
}

stop() {
  local pid
  if ! pid=$(our_pid); then rm -f "$pidfile"; say "not running (nothing started by this script on port $port)"; return 0; fi
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -0 "$pid" 2>/dev/null && { say "broker did not stop in 30s; killing it"; kill -9 "$pid"; }
  rm -f "$pidfile"
  say "stopped (pid $pid)"
}

status() {
  if pid=$(our_pid) && port_open "$port"; then say "running (pid $pid) on 127.0.0.1:$port"; else say "not running on 127.0.0.1:$port"; return 3; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  logs) tail -n "${2:-50}" "$logfile" ;;
  *) echo "usage: $0 start|stop|status|logs" >&2; exit 2 ;;
esac
