#!/usr/bin/env bash
# A real single-machine Apache Druid for the Druid suite (npm run test:druid): ZooKeeper, a coordinator that
# is also the overlord (Derby metadata), a broker, a historical and an indexer, each its own JVM, all on
# 127.0.0.1, with the Kafka indexing service loaded as an extension (a supervisor ingests a topic, as in
# production). Jars come from Maven Central through scripts/druid/*.pom.xml, cached in .cache/.
#   scripts/druid.sh start|stop|status|logs
# Settings: DRUID_VERSION (33.0.0), MAU_DRUID_PORT_BASE (18000: broker +82, coordinator +81, historical +83,
# indexer +91, ZooKeeper +181, Derby +527).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/maven-jars.sh"
version=${DRUID_VERSION:-33.0.0}
base=${MAU_DRUID_PORT_BASE:-18000}
lib="$root/.cache/druid/$version/lib"
extensions="$root/.cache/druid/$version/extensions"
run="$root/.cache/druid/run-$base"
services=(zookeeper coordinator broker historical indexer)

say() { echo "druid: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }
port_of() {
  case $1 in
    zookeeper) echo $((base + 181)) ;; coordinator) echo $((base + 81)) ;; broker) echo $((base + 82)) ;;
    historical) echo $((base + 83)) ;; indexer) echo $((base + 91)) ;; derby) echo $((base + 527)) ;;
  esac
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pid_of() { [[ -f $run/$1.pid ]] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null && cat "$run/$1.pid"; }

write_config() {
  mkdir -p "$run/conf/_common" "$run/var/tmp" "$run/zk"
  cat >"$run/conf/_common/common.runtime.properties" <<PROPS
druid.host=127.0.0.1
druid.extensions.loadList=["druid-kafka-indexing-service"]
druid.extensions.directory=$extensions
druid.extensions.hadoopDependenciesDir=$run/hadoop-dependencies
druid.zk.service.host=127.0.0.1:$(port_of zookeeper)
druid.zk.paths.base=/druid
druid.metadata.storage.type=derby
druid.metadata.storage.connector.connectURI=jdbc:derby://127.0.0.1:$(port_of derby)/$run/var/metadata.db;create=true
druid.metadata.storage.connector.host=127.0.0.1
druid.metadata.storage.connector.port=$(port_of derby)
druid.storage.type=local
druid.storage.storageDirectory=$run/var/segments
druid.indexer.logs.type=file
druid.indexer.logs.directory=$run/var/indexing-logs
druid.selectors.indexing.serviceName=druid/overlord
druid.selectors.coordinator.serviceName=druid/coordinator
druid.emitter=noop
druid.startup.logging.logProperties=false
druid.sql.enable=true
druid.lookup.enableLookupSyncOnStartup=false
druid.processing.buffer.sizeBytes=50000000
druid.processing.numThreads=1
druid.processing.numMergeBuffers=2
druid.server.http.numThreads=12
druid.indexing.doubleStorage=double
PROPS
  local s
  for s in coordinator broker historical indexer; do
    mkdir -p "$run/conf/$s"
    {
      echo "druid.service=druid/$s"
      echo "druid.plaintextPort=$(port_of "$s")"
      case $s in
        coordinator)
          echo "druid.service=druid/coordinator"
          echo "druid.coordinator.asOverlord.enabled=true"
          echo "druid.coordinator.asOverlord.overlordService=druid/overlord"
          echo "druid.coordinator.startDelay=PT1S"
          echo "druid.coordinator.period=PT2S"
          echo "druid.manager.segments.pollDuration=PT2S"
          echo "druid.indexer.queue.startDelay=PT1S"
          echo "druid.indexer.runner.type=remote"
          echo "druid.indexer.storage.type=metadata" ;;
        broker)
          echo "druid.broker.http.numConnections=5"
          echo "druid.sql.planner.metadataRefreshPeriod=PT2S" ;;
        historical)
          echo "druid.segmentCache.locations=[{\"path\":\"$run/var/segment-cache\",\"maxSize\":\"10g\"}]"
          echo "druid.server.maxSize=10g" ;;
        indexer)
          # A Kafka supervisor holds one slot for as long as it runs (two while a task hands off); batch
          # ingestion and backfill tests need theirs beside it.
          echo "druid.worker.capacity=4"
          echo "druid.indexer.task.baseTaskDir=$run/var/task"
          echo "druid.indexer.task.restoreTasksOnRestart=false" ;;
      esac
    } >"$run/conf/$s/runtime.properties"
  done
  cat >"$run/conf/_common/log4j2.xml" <<'XML'
<Configuration status="WARN">
  <Appenders><Console name="Console" target="SYSTEM_OUT"><PatternLayout pattern="%d{ISO8601} %p [%t] %c - %m%n"/></Console></Appenders>
  <Loggers><Root level="warn"><AppenderRef ref="Console"/></Root>
    <Logger name="org.apache.druid.cli" level="info"/>
    <Logger name="org.apache.druid.server.initialization.jetty" level="info"/>
  </Loggers>
</Configuration>
XML
  cat >"$run/zk/zoo.cfg" <<PROPS
tickTime=2000
dataDir=$run/zk/data
clientPort=$(port_of zookeeper)
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
PROPS
}

# What Druid's own bin/run-java passes on Java 17: segment code reaches into java.nio internals.
JDK17_OPENS="--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
 --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
 --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=jdk.management/com.sun.management.internal=ALL-UNNAMED"

launch() {
  local s=$1 heap=$2 cp main
  if [[ $s == zookeeper ]]; then
    cp="$run/conf/_common:$lib/*"
    main="org.apache.zookeeper.server.quorum.QuorumPeerMain $run/zk/zoo.cfg"
  else
    cp="$run/conf/_common:$run/conf/$s:$lib/*"
    main="org.apache.druid.cli.Main server $s"
  fi
  # shellcheck disable=SC2086
  nohup java -server $JDK17_OPENS -Xms$heap -Xmx$heap -XX:MaxDirectMemorySize=400m -XX:+UseG1GC -Duser.timezone=UTC -Dfile.encoding=UTF-8 \
    -Djava.io.tmpdir="$run/var/tmp" -Dlog4j.configurationFile="$run/conf/_common/log4j2.xml" \
    -Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager -Ddruid.node.type=$s \
    -cp "$cp" $main >"$run/$s.log" 2>&1 </dev/null &
  echo $! >"$run/$s.pid"
}

wait_http() {
  local s=$1 deadline=$((SECONDS + ${2:-240}))
  until curl -sf "http://127.0.0.1:$(port_of "$s")/status/health" >/dev/null 2>&1; do
    pid_of "$s" >/dev/null || die "$s exited during start-up; see $run/$s.log"
    ((SECONDS < deadline)) || die "$s did not answer /status/health within ${2:-240}s; see $run/$s.log"
    sleep 1
  done
}

start() {
  if pid_of broker >/dev/null; then say "already running (broker on 127.0.0.1:$(port_of broker))"; return 0; fi
  local s
  for s in "${services[@]}"; do port_open "$(port_of "$s")" && die "port $(port_of "$s") ($s) is taken; stop it or set MAU_DRUID_PORT_BASE"; done
  resolve_jars "Apache Druid $version" "$root/scripts/druid/pom.xml" "-Ddruid.version=$version" "$lib"
  resolve_jars "Druid's Kafka indexing service $version" "$root/scripts/druid/kafka-indexing.pom.xml" "-Ddruid.version=$version" "$extensions/druid-kafka-indexing-service"
  write_config
  local t0=$SECONDS
  launch zookeeper 128m
  for _ in $(seq 60); do port_open "$(port_of zookeeper)" && break; sleep 0.5; done
  launch coordinator 384m
  wait_http coordinator
  launch broker 384m
  launch historical 384m
  launch indexer 512m
  for s in broker historical indexer; do wait_http "$s"; done
  say "Druid $version up in $((SECONDS - t0))s: SQL at http://127.0.0.1:$(port_of broker)/druid/v2/sql (logs: $run)"
}

stop() {
  local s pid
  for ((i = ${#services[@]} - 1; i >= 0; i--)); do
    s=${services[$i]}
    if pid=$(pid_of "$s"); then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$run/$s.pid"
  done
  say "stopped"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) for s in "${services[@]}"; do if pid=$(pid_of "$s"); then echo "$s: running (pid $pid, port $(port_of "$s"))"; else echo "$s: stopped"; fi; done ;;
  logs) tail -n 50 "$run"/*.log ;;
  *) echo "usage: $0 start|stop|status|logs" >&2; exit 2 ;;
esac
