#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker+controller in one JVM) on 127.0.0.1 for development and tests.
# Jars come from Maven Central through the machine's Maven (scripts/kafka/pom.xml) and are cached in .cache/.
#   scripts/kafka.sh start|stop|status|logs
# Settings: MAU_KAFKA_PORT (9092), MAU_KAFKA_CONTROLLER_PORT (port+1), KAFKA_VERSION (3.9.1), KAFKA_HEAP (512m).
# MAU_KAFKA_SECURE=1 adds, for the TLS and SASL tests, the listeners a managed Kafka has, with certificates
# from scripts/certs.sh in the run directory (certs/): SASL_SSL on port+2 (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN,
# and OAUTHBEARER with Kafka's own unsecured-token validator), SSL with client certificates required on port+3,
# SASL_PLAINTEXT on port+4. The TLS listeners are advertised as localhost, the name in the certificate.
# Test users: mau / mau-scram-secret (SCRAM), mau / mau-plain-secret (PLAIN).
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
secure=${MAU_KAFKA_SECURE:-}
certs="$run/certs"

say() { echo "kafka: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
our_pid() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && cat "$pidfile"; }

write_config() {
  mkdir -p "$run/data"
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port" advertised="PLAINTEXT://127.0.0.1:$port"
  if [[ -n $secure ]]; then
    listeners+=",SASL_SSL://127.0.0.1:$((port + 2)),SSL://127.0.0.1:$((port + 3)),SASL_PLAINTEXT://127.0.0.1:$((port + 4))"
    advertised+=",SASL_SSL://localhost:$((port + 2)),SSL://localhost:$((port + 3)),SASL_PLAINTEXT://localhost:$((port + 4))"
  fi
  cat >"$run/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT
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
  [[ -n $secure ]] && secure_config >>"$run/server.properties"
  cat >"$run/log4j.properties" <<'PROPS'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
PROPS
}

secure_config() {
  local mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN,OAUTHBEARER
  cat <<PROPS
ssl.keystore.type=PEM
ssl.keystore.location=$certs/server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$certs/ca.pem
listener.name.ssl.ssl.client.auth=required
PROPS
  for l in sasl_ssl sasl_plaintext; do
    cat <<PROPS
listener.name.$l.sasl.enabled.mechanisms=$mechanisms
listener.name.$l.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$l.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.$l.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_mau="mau-plain-secret";
listener.name.$l.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="broker";
PROPS
  done
}

start() {
  if pid=$(our_pid); then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  port_open "$port" && die "port $port is taken by a process this script did not start; stop it or set MAU_KAFKA_PORT"
  resolve_jars "Apache Kafka $version" "$root/scripts/kafka/pom.xml" "-Dkafka.version=$version" "$libs"
  [[ -n $secure ]] && bash "$root/scripts/certs.sh" "$certs"
  write_config
  local cp="$libs/*"
  if [[ ! -f $run/data/meta.properties ]]; then
    local id scram=()
    id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null)
    [[ -n $secure ]] && scram=(--add-scram 'SCRAM-SHA-512=[name=mau,password=mau-scram-secret]' --add-scram 'SCRAM-SHA-256=[name=mau,password=mau-scram-secret]')
    java -cp "$cp" -Dlog4j.configuration="file:$run/log4j.properties" kafka.tools.StorageTool format \
      -t "$id" -c "$run/server.properties" "${scram[@]}" >/dev/null || die "formatting KRaft storage in $run/data failed"
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
