#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) on 127.0.0.1, from Maven Central jars.
#
#   deploy/kafka.sh install   fetch the jars (cached outside the repository)
#   deploy/kafka.sh start     format storage once, start, wait until ready
#   deploy/kafka.sh stop      stop cleanly (SIGTERM, then SIGKILL after 30 s)
#   deploy/kafka.sh status    exit 0 if running
#   deploy/kafka.sh reset     stop and delete the broker's data
#
# Environment: KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_HEAP
# (512m), MAPPA_CACHE_DIR (~/.cache/mappa), MAPPA_KAFKA_DIR (state and data),
# JAVA_HOME. To use an existing cluster instead, set KAFKA_BOOTSTRAP_SERVERS
# for the services and do not run this script.
set -euo pipefail

KAFKA_VERSION=4.1.1
HERE="$(cd "$(dirname "$0")" && pwd)"
CACHE_DIR="${MAPPA_CACHE_DIR:-$HOME/.cache/mappa}"
LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
STATE="${MAPPA_KAFKA_DIR:-$CACHE_DIR/kafka-run}"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${KAFKA_HEAP:-512m}"
PID_FILE="$STATE/broker.pid"
LOG="$STATE/broker.log"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
JVM=("$JAVA" -Xms256m "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  "-Dlog4j2.configurationFile=$STATE/log4j2.properties" -cp "$LIBS/*")

say() { echo "kafka: $*"; }

install() {
  if [ -f "$LIBS/.complete" ]; then return; fi
  say "fetching Kafka $KAFKA_VERSION jars through Maven into $LIBS"
  rm -rf "$LIBS"
  mvn -q -B -Dstyle.color=never -f "$HERE/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime
  touch "$LIBS/.complete"
}

running() {
  [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

ready() {
  port_open "$PORT" && grep -q "Kafka Server started" "$LOG" 2>/dev/null
}

configure() {
  mkdir -p "$STATE/data"
  cat >"$STATE/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$STATE/data
# The platform creates its topics itself, explicitly.
auto.create.topics.enable=false
num.partitions=6
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  cat >"$STATE/log4j2.properties" <<PROPS
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
appender.file.type=File
appender.file.name=file
appender.file.fileName=$LOG
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
logger.kafka.name=kafka
logger.kafka.level=INFO
logger.apache.name=org.apache.kafka
logger.apache.level=INFO
PROPS
}


start() {
  install
  if running; then
    if ready; then say "already running on 127.0.0.1:$PORT"; return; fi
  elif port_open "$PORT"; then
    say "port $PORT is in use by another program; set KAFKA_PORT or stop it" >&2
    exit 1
  fi
  configure
  if [ ! -f "$STATE/data/meta.properties" ]; then
    local cluster_id
    cluster_id=$("${JVM[@]}" kafka.tools.StorageTool random-uuid)
    "${JVM[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" \
      -c "$STATE/server.properties" >/dev/null
  fi
  if ! running; then
    : >"$LOG"
    nohup "${JVM[@]}" kafka.Kafka "$STATE/server.properties" >"$STATE/stdout.log" 2>&1 &
    echo $! >"$PID_FILE"
  fi
  local waited=0
  until ready; do
    if ! running; then
      say "broker exited during start; last lines of $LOG:" >&2
      tail -n 30 "$LOG" "$STATE/stdout.log" >&2 || true
      rm -f "$PID_FILE"
      exit 1
    fi
    if [ "$waited" -ge 900 ]; then
      say "not ready after 90 s; last lines of $LOG:" >&2
      tail -n 30 "$LOG" >&2 || true
      exit 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  say "ready on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"), heap $HEAP, data in $STATE)"
}

stop() {
  if ! running; then rm -f "$PID_FILE"; return; fi
  local pid waited=0
  pid=$(cat "$PID_FILE")
  kill -TERM "$pid"
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge 300 ]; then
      say "no clean exit after 30 s; killing" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$PID_FILE"
  say "stopped"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if running; then say "running (pid $(cat "$PID_FILE"))"; else say "not running"; exit 1; fi ;;
  reset) stop; rm -rf "$STATE"; say "data removed" ;;
  *) echo "usage: $0 install|start|stop|status|reset" >&2; exit 2 ;;
esac
