#!/usr/bin/env bash
# A real single-node Apache Kafka 4.1.1 broker (KRaft, broker+controller in one
# JVM) on 127.0.0.1, without Docker: its jars come from Maven Central through
# Maven (deploy/kafka/pom.xml) and are cached outside the repository.
#
# It is secured as a production cluster would be: clients authenticate with
# SASL/SCRAM-SHA-512, the StandardAuthorizer allows only what deploy/acls.py
# grants (allow.everyone.if.no.acl.found=false), and each agency system and
# service has its own principal. Their passwords are made on the first start,
# into $MAPPA_KAFKA_DIR/credentials.env (mode 0600, never in the repository);
# every start then provisions the topics, users and ACLs (deploy/provision.py).
#
#   deploy/kafka.sh install   fetch the jars (once; idempotent)
#   deploy/kafka.sh start     install if needed, format storage once, start in
#                             the background, wait until it answers requests
#   deploy/kafka.sh stop      SIGTERM, SIGKILL after 30 s; exit 0 if not running
#   deploy/kafka.sh status    "running"/"not running", exit code 0/1
#   deploy/kafka.sh reset     stop and delete the state dir (data); keep the jars
#   deploy/kafka.sh env       the settings clients need: KAFKA_BOOTSTRAP_SERVERS and
#                             every principal's MAPPA_<CLIENT>_KAFKA_USERNAME/PASSWORD
#   deploy/kafka.sh tool CLASS [ARGS...]
#                             run a Kafka command-line class on the same jars,
#                             e.g. tool org.apache.kafka.tools.TopicCommand
#                             --bootstrap-server 127.0.0.1:9092 --list
#
# Environment:
#   KAFKA_PORT (9092)             SASL_PLAINTEXT listener on 127.0.0.1 (SCRAM-SHA-512)
#   KAFKA_CONTROLLER_PORT (9093)  KRaft controller listener on 127.0.0.1 (SASL PLAIN,
#                                 for the broker itself only)
#   KAFKA_HEAP (512m)             broker -Xmx
#   KAFKA_READY_TIMEOUT (90)      seconds `start` waits for readiness
#   MAPPA_CACHE_DIR (~/.cache/mappa)              jars: $MAPPA_CACHE_DIR/kafka-4.1.1/libs
#   MAPPA_KAFKA_DIR (~/.cache/mappa/kafka-run)    config, logs, pid file, data
#   JAVA_HOME                     java 17+ to use (else `java` on PATH)
#   MAPPA_PYTHON (.venv/bin/python)  the Python that runs deploy.provision
# The broker logs to $MAPPA_KAFKA_DIR/broker.log. To use an existing cluster
# instead, point the services at it and do not run this script.
set -euo pipefail
umask 077   # the state dir holds every principal's password

KAFKA_VERSION=4.1.1
NODE_ID=1
HOST=127.0.0.1
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
PY="${MAPPA_PYTHON:-$ROOT/.venv/bin/python}"
POM="$HERE/kafka/pom.xml"
CACHE_DIR="${MAPPA_CACHE_DIR:-$HOME/.cache/mappa}"
DIST="$CACHE_DIR/kafka-$KAFKA_VERSION"
LIBS="$DIST/libs"
STATE="${MAPPA_KAFKA_DIR:-$HOME/.cache/mappa/kafka-run}"
DATA="$STATE/data"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
HEAP="${KAFKA_HEAP:-512m}"
READY_TIMEOUT="${KAFKA_READY_TIMEOUT:-90}"   # seconds
PID_FILE="$STATE/broker.pid"
LOG="$STATE/broker.log"
OUT="$STATE/broker.out"
CREDENTIALS="$STATE/credentials.env"
ADMIN_CONFIG="$STATE/admin.properties"
CONTROLLER_SECRET="$STATE/controller.secret"
if [ -n "${JAVA_HOME:-}" ]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

say() { echo "kafka: $*"; }
die() { echo "kafka: $*" >&2; exit 1; }

# --- jars -------------------------------------------------------------------

# What the cache was filled from: a change to the pom (or version) refetches.
stamp() { { echo "$KAFKA_VERSION"; cat "$POM"; } | sha256sum | cut -d' ' -f1; }

installed() { [ -f "$LIBS/.complete" ] && [ "$(cat "$LIBS/.complete")" = "$(stamp)" ]; }

install() {
  installed && return 0
  command -v mvn >/dev/null || die "mvn (Maven) is not on PATH: apt-get install maven"
  mkdir -p "$DIST"
  exec 8>"$DIST/.install.lock"
  flock 8                        # another install of the same cache is under way
  if installed; then exec 8>&-; return 0; fi
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
  local partial="$LIBS.partial.$$"
  rm -rf "$partial"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$partial" -DincludeScope=runtime </dev/null >"$DIST/install.log" 2>&1; then
    rm -rf "$partial"
    tail -n 40 "$DIST/install.log" >&2
    die "Maven could not fetch the jars (full output in $DIST/install.log)"
  fi
  if [ ! -f "$partial/kafka_2.13-$KAFKA_VERSION.jar" ]; then
    rm -rf "$partial"
    die "Maven copied no kafka_2.13-$KAFKA_VERSION.jar (see $DIST/install.log)"
  fi
  stamp >"$partial/.complete"
  rm -rf "$LIBS"
  mv "$partial" "$LIBS"
  exec 8>&-
}

# --- java -------------------------------------------------------------------

check_java() {
  command -v "$JAVA" >/dev/null || die "java not found ($JAVA): install openjdk-17-jre-headless or set JAVA_HOME"
  local spec
  spec=$("$JAVA" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = //p')
  case "$spec" in
    1.*|9|1[0-6]|"") die "Kafka $KAFKA_VERSION needs Java 17 or newer; $JAVA is ${spec:-unknown}" ;;
  esac
}

# -Xms256m, or the whole heap when KAFKA_HEAP is smaller than that.
initial_heap() {
  local mb=${HEAP%[mMgG]}
  case "$HEAP" in *[gG]) mb=$((mb * 1024)) ;; esac
  if [ "$mb" -lt 256 ]; then echo "-Xms$HEAP"; else echo "-Xms256m"; fi
}

# Command-line JVMs: small heap, WARN to stderr. QUICK ones (the readiness
# probe, the storage tool) live for a second: C1 only starts them faster.
TOOL_LOG4J="$DIST/tools-log4j2.properties"
TOOL=("$JAVA" -Xmx256m -XX:+UseSerialGC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$TOOL_LOG4J" -cp "$LIBS/*")
QUICK=("$JAVA" -XX:TieredStopAtLevel=1 "${TOOL[@]:1}")

tool_config() {
  [ -f "$TOOL_LOG4J" ] && return 0
  cat >"$TOOL_LOG4J" <<'PROPS'
status = warn
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = stderr
PROPS
}

# --- the broker process -----------------------------------------------------

# The pid of the broker this script started for $STATE, if it is alive.
broker_pid() {
  local pid
  [ -f "$PID_FILE" ] || return 1
  pid=$(cat "$PID_FILE" 2>/dev/null) || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  is_broker "$pid" || return 1
  echo "$pid"
}

# The process is alive (not a zombie) and is our broker, not a reused pid.
# (No `| grep -q` anywhere: with pipefail, grep quitting early fails the pipe.)
is_broker() {
  local cmd
  cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
  [[ "$cmd" == *"kafka.Kafka $STATE/server.properties "* ]]
}

# The process has fully exited: it is gone, or a zombie whose threads have all
# ended (a JVM's main thread can be a zombie while others still hold sockets).
exited() {
  local status
  status=$(cat "/proc/$1/status" 2>/dev/null) || return 0
  grep -q '^State:[[:space:]]*Z' <<<"$status" && grep -q '^Threads:[[:space:]]*1$' <<<"$status"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

port_user() {
  command -v ss >/dev/null || return 0
  local line
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null) || return 0
  [[ "$line" == *users:* ]] && echo "(${line##*users:})"
  return 0
}

# Ready = the broker answers a real request and lists itself as a live node.
ready() {
  port_open "$PORT" || return 1
  local answer
  answer=$(timeout 30 "${QUICK[@]}" org.apache.kafka.tools.BrokerApiVersionsCommand \
    --bootstrap-server "$HOST:$PORT" --command-config "$ADMIN_CONFIG" 2>/dev/null) || return 1
  [[ "$answer" == *"(id: $NODE_ID "* ]]
}

# The broker port is held by $1, not by some other program that took it first
# (taken on trust where `ss` is missing).
listened_by() {
  command -v ss >/dev/null || return 0
  local line
  line=$(ss -Hltnp "sport = :$PORT" 2>/dev/null) || return 0
  [[ "$line" == *"pid=$1,"* ]]
}

LISTENERS="listeners=SASL_PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT"

# --- principals -------------------------------------------------------------

credential() { sed -n "s/^$1=//p" "$CREDENTIALS"; }

# Every principal's password, made once per state dir (a formatted one without them predates
# authentication), and the controller listener's own secret.
credentials() {
  if [ ! -f "$CREDENTIALS" ]; then
    [ ! -f "$DATA/meta.properties" ] ||
      die "$STATE holds a broker formatted before authentication: 'deploy/kafka.sh reset' deletes it"
    [ -x "$PY" ] || die "no Python at $PY to make the credentials with: run scripts/bootstrap.sh"
    (cd "$ROOT" && "$PY" -m deploy.provision credentials) >"$CREDENTIALS.partial"
    mv "$CREDENTIALS.partial" "$CREDENTIALS"
  else
    # Principals the catalogue gained since: a password each, beside the others'.
    (cd "$ROOT" && "$PY" -m deploy.provision credentials --missing-from "$CREDENTIALS") >>"$CREDENTIALS"
  fi
  [ -f "$CONTROLLER_SECRET" ] || head -c 32 /dev/urandom | base64 -w0 | tr -d '/+=' >"$CONTROLLER_SECRET"
  cat >"$ADMIN_CONFIG" <<PROPS
security.protocol=SASL_PLAINTEXT
sasl.mechanism=SCRAM-SHA-512
sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="$(credential MAPPA_ADMIN_KAFKA_USERNAME)" password="$(credential MAPPA_ADMIN_KAFKA_PASSWORD)";
PROPS
}

# The topics, users and ACLs, as the admin (idempotent: a changed catalogue is applied).
provision() {
  (set -a && . "$CREDENTIALS" && KAFKA_BOOTSTRAP_SERVERS="$HOST:$PORT" && cd "$ROOT" &&
    "$PY" -m deploy.provision apply) || failed "provisioning the broker's topics, users and ACLs failed"
}

env_lines() {
  [ -f "$CREDENTIALS" ] || die "no credentials in $STATE: start the broker first"
  echo "KAFKA_BOOTSTRAP_SERVERS=$HOST:$PORT"
  cat "$CREDENTIALS"
}

configure() {
  mkdir -p "$DATA"
  local admin controller
  admin="username=\"$(credential MAPPA_ADMIN_KAFKA_USERNAME)\" password=\"$(credential MAPPA_ADMIN_KAFKA_PASSWORD)\""
  controller=$(cat "$CONTROLLER_SECRET")
  cat >"$STATE/server.properties" <<PROPS
# Written by deploy/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
$LISTENERS
advertised.listeners=SASL_PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=SASL_PLAINTEXT
# Clients: SCRAM-SHA-512, credentials kept in the cluster's metadata. The broker talks to itself as
# the admin; the controller listener takes PLAIN from the broker only (SCRAM needs the metadata it serves).
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required $admin;
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="$controller" user_controller="$controller";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:$(credential MAPPA_ADMIN_KAFKA_USERNAME);User:controller
allow.everyone.if.no.acl.found=false
log.dirs=$DATA
# The platform creates its topics itself, explicitly.
auto.create.topics.enable=false
num.partitions=6
# One node: every internal topic has one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
PROPS
  cat >"$STATE/log4j2.properties" <<PROPS
# Broker logging (Kafka 4 uses log4j2): INFO to $LOG, nothing to stdout.
# No log4j2 shutdown hook: Kafka logs its own shutdown from a JVM hook, and
# log4j2's would close the file under it (every line is flushed as written).
status = warn
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $LOG
appender.file.filePattern = $LOG.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.request.name = kafka.request.logger
logger.request.level = WARN
PROPS
}

format_storage() {
  [ -f "$DATA/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$("${QUICK[@]}" kafka.tools.StorageTool random-uuid)
  say "formatting $DATA (cluster $cluster_id)"
  "${QUICK[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" \
    -c "$STATE/server.properties" --add-scram "SCRAM-SHA-512=[name=$(credential MAPPA_ADMIN_KAFKA_USERNAME),password=$(credential MAPPA_ADMIN_KAFKA_PASSWORD)]" \
    >"$STATE/format.log" 2>&1 ||
    { cat "$STATE/format.log" >&2; die "formatting the storage failed"; }
}

# The last $3 lines that $1 gained since it was $2 bytes long.
new_lines() {
  [ -s "$1" ] || return 0
  local from=$2
  [ "$(stat -c %s "$1")" -ge "$from" ] || from=0   # rolled over meanwhile
  tail -c "+$((from + 1))" "$1" | tail -n "$3"
}

LOG_FROM=0 OUT_FROM=0
failed() {
  echo "kafka: $*" >&2
  local lines
  lines=$(new_lines "$LOG" "$LOG_FROM" 40)
  [ -z "$lines" ] || printf 'kafka: last lines of %s:\n%s\n' "$LOG" "$lines" >&2
  lines=$(new_lines "$OUT" "$OUT_FROM" 20)
  [ -z "$lines" ] || printf 'kafka: last lines of %s:\n%s\n' "$OUT" "$lines" >&2
  exit 1
}

start() {
  [ "$PORT" != "$CONTROLLER_PORT" ] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT are both $PORT"
  [[ "$HEAP" =~ ^[1-9][0-9]*[mMgG]$ ]] || die "KAFKA_HEAP must look like 512m or 1g, not '$HEAP'"
  check_java
  install
  tool_config
  mkdir -p "$STATE"
  chmod 700 "$STATE"             # it holds every principal's password
  exec 9>"$STATE/.lock"
  flock 9                        # one start/stop/reset of this state dir at a time
  credentials
  local pid
  if pid=$(broker_pid); then
    if ! grep -qxF "$LISTENERS" "$STATE/server.properties"; then
      die "a broker (pid $pid) already runs from $STATE with other ports" \
        "($(grep '^listeners=' "$STATE/server.properties")); stop it first"
    fi
    if ready; then
      provision
      say "already running and ready on $HOST:$PORT (pid $pid)"
      return 0
    fi
    say "already running (pid $pid); waiting until it is ready"
  else
    rm -f "$PID_FILE"
    local p
    for p in "$PORT" "$CONTROLLER_PORT"; do
      if port_open "$p"; then
        die "port $p on $HOST is already in use by another program $(port_user "$p");" \
          "stop it, or choose free ports with KAFKA_PORT and KAFKA_CONTROLLER_PORT"
      fi
    done
    configure
    format_storage
    LOG_FROM=$(stat -c %s "$LOG" 2>/dev/null || echo 0)
    OUT_FROM=$(stat -c %s "$OUT" 2>/dev/null || echo 0)
    echo "=== $(date -u +%FT%TZ) starting Kafka $KAFKA_VERSION on $HOST:$PORT" >>"$OUT"
    nohup "$JAVA" "$(initial_heap)" "-Xmx$HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
      "-Dkafka.logs.dir=$STATE" "-Dlog4j2.configurationFile=$STATE/log4j2.properties" \
      -cp "$LIBS/*" kafka.Kafka "$STATE/server.properties" \
      </dev/null >>"$OUT" 2>&1 8>&- 9>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
  fi
  local deadline=$((SECONDS + READY_TIMEOUT))
  until ready && listened_by "$pid"; do
    # (Not is_broker: right after the launch, $pid may not have exec'd java yet.)
    if exited "$pid"; then
      rm -f "$PID_FILE"
      failed "the broker exited during start"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      terminate "$pid"
      failed "the broker (pid $pid) was not ready after ${READY_TIMEOUT}s, so it was stopped"
    fi
    sleep 0.5
  done
  provision
  say "ready on $HOST:$PORT (pid $pid, heap $HEAP, state in $STATE)"
}

# SIGTERM (a clean, controlled shutdown), SIGKILL after 30 s.
terminate() {
  local pid=$1 deadline=$((SECONDS + 30))
  kill -TERM "$pid" 2>/dev/null || true
  while ! exited "$pid"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "no clean exit after 30 s; killing pid $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 15))
      while ! exited "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
}

stop() {
  [ -d "$STATE" ] || { say "not running"; return 0; }
  exec 9>"$STATE/.lock"
  flock 9
  local pid
  if ! pid=$(broker_pid); then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  terminate "$pid"
  say "stopped (pid $pid)"
}

status() {
  local pid
  if pid=$(broker_pid); then
    say "running (pid $pid) on $HOST:$PORT, state in $STATE"
  else
    say "not running"
    return 1
  fi
}

reset() {
  stop
  case "$STATE" in
    ""|/|"$HOME"|"$HOME/"|"$CACHE_DIR"|"$DIST"*) die "refusing to delete $STATE" ;;
  esac
  exec 9>&-
  rm -rf "$STATE"
  say "deleted $STATE (jars kept in $LIBS)"
}

tool() {
  [ $# -ge 1 ] || die "usage: $0 tool CLASS [ARGS...]"
  check_java
  install
  tool_config
  exec "${TOOL[@]}" "$@"
}

case "${1:-}" in
  install) install; say "jars in $LIBS" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  env) env_lines ;;
  tool) shift; tool "$@" ;;
  *) echo "usage: $0 install|start|stop|status|reset|env|tool CLASS [ARGS...]" >&2; exit 2 ;;
esac
