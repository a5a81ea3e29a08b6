#!/usr/bin/env bash
# Local single-node Apache Kafka broker (KRaft, combined broker+controller)
# for development and tests. No Docker: the broker jars come from Maven
# Central (see pom.xml) and run on the system Java.
#
# Usage: deploy/local/kafka.sh fetch|start|stop|status|reset|topics [ARGS...]
#
# Everything lives under $WAGATE_LOCAL (default: <repo>/.local).
set -euo pipefail

PROG=kafka.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
WAGATE_LOCAL=${WAGATE_LOCAL:-$REPO_ROOT/.local}
mkdir -p "$WAGATE_LOCAL"
WAGATE_LOCAL=$(cd "$WAGATE_LOCAL" && pwd -P)

KAFKA_VERSION=${KAFKA_VERSION:-3.9.1}
KAFKA_FALLBACK_VERSION=${KAFKA_FALLBACK_VERSION:-3.9.2}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
KAFKA_ADVERTISED_HOST=${KAFKA_ADVERTISED_HOST:-localhost}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:-}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-20}
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.8.1

KAFKA_HOME=$WAGATE_LOCAL/kafka
LIBS_DIR=$KAFKA_HOME/libs
DATA_DIR=$KAFKA_HOME/data
CONFIG=$KAFKA_HOME/server.properties
LOG_DIR=$WAGATE_LOCAL/logs
LOG_FILE=$LOG_DIR/kafka.log
FETCH_LOG=$LOG_DIR/kafka-fetch.log
RUN_DIR=$WAGATE_LOCAL/run
PID_FILE=$RUN_DIR/kafka.pid
LOCK_FILE=$RUN_DIR/kafka.lock
MARKER=$LIBS_DIR/.kafka-version
READY_LINE='Kafka Server started'

# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat >&2 <<EOF
usage: $PROG fetch|start|stop|status|reset|topics [ARGS...]
  fetch   download the Kafka $KAFKA_VERSION jars into $LIBS_DIR (skipped if present)
  start   fetch, format storage if needed, start the broker, wait until ready
  stop    stop the broker (SIGTERM, then SIGKILL after ${KAFKA_STOP_TIMEOUT}s)
  status  print whether the broker runs; exit 0 if running, 3 if not
  reset   stop and delete the broker data ($DATA_DIR)
  topics  run Kafka's TopicCommand against the broker, e.g. '$PROG topics --list'
EOF
}

validate_port() {  # name value
  if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < 1 || $2 > 65535)); then
    die "$1 must be a TCP port number, got '$2'"
  fi
}

# --- processes -------------------------------------------------------------

# True if PID is a broker started from our rendered config.
is_our_broker() {
  local pid=$1 cmd
  pid_alive "$pid" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *kafka.Kafka* && $cmd == *"$CONFIG"* ]]
}

# Print the PIDs of every broker of ours (pid file or not).
our_pids() {
  local d pid comm
  for d in /proc/[0-9]*; do
    pid=${d#/proc/}
    { comm=$(<"$d/comm"); } 2>/dev/null || continue
    [[ $comm == java ]] || continue
    is_our_broker "$pid" && echo "$pid"
  done
  return 0
}

# The PID of our running broker, or nothing. Repairs a missing/stale pid file.
running_pid() {
  local pid=""
  [[ -f $PID_FILE ]] && pid=$(<"$PID_FILE")
  if is_our_broker "$pid"; then echo "$pid"; return 0; fi
  pid=$(our_pids | head -n1)
  if [[ -n $pid ]]; then
    echo "$pid" >"$PID_FILE"
    echo "$pid"
  else
    rm -f "$PID_FILE"
  fi
}

take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$LOCK_FILE"
  flock -w $((KAFKA_START_TIMEOUT + KAFKA_STOP_TIMEOUT + 60)) 9 ||
    die "another kafka.sh is still running (lock $LOCK_FILE)"
}

# --- fetch -----------------------------------------------------------------

installed_version() {
  local v
  [[ -f $MARKER ]] || return 1
  v=$(<"$MARKER")
  [[ -f $LIBS_DIR/kafka_2.13-$v.jar ]] || return 1
  echo "$v"
}

ensure_tools() {
  if ! command -v java >/dev/null 2>&1; then
    die "java not found on PATH (need Java 17; on Debian: apt-get install -y openjdk-17-jre-headless)"
  fi
}

ensure_maven() {
  command -v "${MVN:-mvn}" >/dev/null 2>&1 && return 0
  if [[ $EUID -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    info "installing maven with apt-get"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q maven; } >>"$FETCH_LOG" 2>&1 ||
      die "apt-get install maven failed (see $FETCH_LOG)"
  fi
  command -v "${MVN:-mvn}" >/dev/null 2>&1 || die "mvn not found on PATH (need Maven 3.6+; on Debian: apt-get install -y maven)"
}

fetch_version() {  # version -> 0 if the jars are now in $LIBS_DIR
  local v=$1 tmp=$KAFKA_HOME/libs.tmp
  rm -rf "$tmp"
  mkdir -p "$tmp"
  info "fetching Kafka $v jars from Maven Central (first run only)"
  if ! "${MVN:-mvn}" -q -B -f "$SCRIPT_DIR/pom.xml" -Dkafka.version="$v" \
      "$MAVEN_DEPENDENCY_PLUGIN:copy-dependencies" \
      -DoutputDirectory="$tmp" -DincludeScope=runtime >>"$FETCH_LOG" 2>&1; then
    rm -rf "$tmp"
    return 1
  fi
  [[ -f $tmp/kafka_2.13-$v.jar ]] || { rm -rf "$tmp"; return 1; }
  echo "$v" >"$tmp/.kafka-version"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
}

cmd_fetch() {
  local v
  mkdir -p "$KAFKA_HOME" "$LOG_DIR"
  if v=$(installed_version) && [[ $v == "$KAFKA_VERSION" || $v == "$KAFKA_FALLBACK_VERSION" ]]; then
    return 0
  fi
  ensure_tools
  ensure_maven
  : >"$FETCH_LOG"
  if fetch_version "$KAFKA_VERSION"; then
    info "Kafka $KAFKA_VERSION jars in $LIBS_DIR"
  elif [[ -n $KAFKA_FALLBACK_VERSION && $KAFKA_FALLBACK_VERSION != "$KAFKA_VERSION" ]] &&
       fetch_version "$KAFKA_FALLBACK_VERSION"; then
    info "Kafka $KAFKA_VERSION did not resolve; using $KAFKA_FALLBACK_VERSION jars in $LIBS_DIR"
  else
    grep -m 5 '\[ERROR\]' "$FETCH_LOG" >&2 || tail -n 10 "$FETCH_LOG" >&2 || true
    die "could not fetch Kafka $KAFKA_VERSION (nor $KAFKA_FALLBACK_VERSION) with Maven; see $FETCH_LOG"
  fi
}

# --- start -----------------------------------------------------------------

render_config() {
  local tmpl
  tmpl=$(<"$SCRIPT_DIR/server.properties")
  tmpl=${tmpl//@KAFKA_PORT@/$KAFKA_PORT}
  tmpl=${tmpl//@KAFKA_CONTROLLER_PORT@/$KAFKA_CONTROLLER_PORT}
  tmpl=${tmpl//@KAFKA_ADVERTISED_HOST@/$KAFKA_ADVERTISED_HOST}
  tmpl=${tmpl//@KAFKA_DATA_DIR@/$DATA_DIR}
  printf '%s\n' "$tmpl" >"$CONFIG.tmp"
  mv "$CONFIG.tmp" "$CONFIG"
}

run_tool() {  # main-class args... (Kafka CLI tool on our classpath)
  # shellcheck disable=SC2086  # KAFKA_JVM_OPTS is a list of options
  java -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto $KAFKA_JVM_OPTS \
    -Dlog4j.configuration="file:$SCRIPT_DIR/tools-log4j.properties" \
    -cp "$LIBS_DIR/*" "$@"
}

format_storage() {
  [[ -f $DATA_DIR/meta.properties ]] && return 0
  local cluster_id out
  mkdir -p "$DATA_DIR"
  cluster_id=$(run_tool kafka.tools.StorageTool random-uuid 2>>"$LOG_FILE") ||
    die "kafka.tools.StorageTool random-uuid failed (see $LOG_FILE)"
  if ! out=$(run_tool kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" 2>&1); then
    printf '%s\n' "$out" >&2
    die "formatting $DATA_DIR failed"
  fi
}

# Ready = process alive, client port accepting connections and the broker
# logged that it finished starting (in KRaft that is after it was unfenced).
broker_ready() {  # pid
  pid_alive "$1" && port_open "$KAFKA_PORT" && grep -q "$READY_LINE" "$LOG_FILE" 2>/dev/null
}

wait_ready() {  # pid [started_here]
  local pid=$1 started_here=${2:-} deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  while ! broker_ready "$pid"; do
    if ! pid_alive "$pid"; then
      rm -f "$PID_FILE"
      show_log_tail
      die "the Kafka broker exited during startup (log: $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail
      if [[ -n $started_here ]]; then
        stop_pids "$pid"
        rm -f "$PID_FILE"
        die "Kafka not ready on localhost:$KAFKA_PORT after ${KAFKA_START_TIMEOUT}s; stopped it (log: $LOG_FILE)"
      fi
      die "Kafka not ready on localhost:$KAFKA_PORT after ${KAFKA_START_TIMEOUT}s (pid $pid still running; log: $LOG_FILE)"
    fi
    sleep 0.25
  done
}

cmd_start() {
  local pid p owner
  validate_port KAFKA_PORT "$KAFKA_PORT"
  validate_port KAFKA_CONTROLLER_PORT "$KAFKA_CONTROLLER_PORT"
  take_lock
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    wait_ready "$pid"
    echo "kafka ready on localhost:$KAFKA_PORT"
    return 0
  fi
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      owner=$(port_owner "$p")
      die "port $p is already in use by another process${owner:+ ($owner)}, not by our broker; stop it, pick other KAFKA_PORT/KAFKA_CONTROLLER_PORT, or set KAFKA_BOOTSTRAP to use an existing broker"
    fi
  done
  cmd_fetch
  ensure_tools
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$DATA_DIR"
  [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  : >"$LOG_FILE"
  render_config
  format_storage

  # shellcheck disable=SC2206  # word splitting of the option strings is intended
  local jvm=($KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
    -XX:MaxInlineLevel=15 -Djava.awt.headless=true -Djava.net.preferIPv4Stack=true
    -Dlog4j.configuration="file:$SCRIPT_DIR/log4j.properties"
    -Dkafka.logs.dir="$LOG_DIR" $KAFKA_JVM_OPTS)
  # New session, no inherited descriptors (the lock on fd 9 must not leak
  # into the broker), stdin from /dev/null, output to the log. The wrapper
  # writes its own PID and execs java, so the pid file holds the JVM's PID.
  # shellcheck disable=SC2016  # $$ and $@ belong to the inner shell
  nohup setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' kafka-launcher "$PID_FILE" \
    java "${jvm[@]}" -cp "$LIBS_DIR/*" kafka.Kafka "$CONFIG" \
    </dev/null >>"$LOG_FILE" 2>&1 9>&- &
  local launcher=$! i
  for ((i = 0; i < 40; i++)); do
    [[ -s $PID_FILE ]] && break
    sleep 0.05
  done
  pid=$(<"$PID_FILE") || true
  [[ -n $pid ]] || pid=$launcher
  wait_ready "$pid" started_here
  echo "kafka ready on localhost:$KAFKA_PORT"
}

# --- stop / status / reset ---------------------------------------------------

stop_pids() {  # pids...
  local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT)) pid alive
  kill -TERM "$@" 2>/dev/null || true
  while :; do
    alive=()
    for pid in "$@"; do pid_alive "$pid" && alive+=("$pid"); done
    ((${#alive[@]} == 0)) && return 0
    if ((SECONDS >= deadline)); then
      info "broker did not stop within ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL to ${alive[*]}"
      kill -KILL "${alive[@]}" 2>/dev/null || true
      sleep 0.5
      return 0
    fi
    sleep 0.2
  done
}

cmd_stop() {
  take_lock
  local pids
  mapfile -t pids < <({ running_pid; our_pids; } | sort -u | sed '/^$/d')
  if ((${#pids[@]} == 0)); then
    rm -f "$PID_FILE"
    echo "kafka stopped (was not running)"
    return 0
  fi
  stop_pids "${pids[@]}"
  wait_reaped "${pids[@]}"
  rm -f "$PID_FILE"
  echo "kafka stopped"
}

cmd_status() {
  local pid
  mkdir -p "$RUN_DIR"
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    echo "kafka not running"
    return 3
  fi
  if broker_ready "$pid"; then
    echo "kafka running (pid $pid) on localhost:$KAFKA_PORT"
  else
    echo "kafka starting or unhealthy (pid $pid; log: $LOG_FILE)"
  fi
}

cmd_reset() {
  cmd_stop
  rm -rf "$DATA_DIR" "$CONFIG"
  echo "kafka data deleted ($DATA_DIR)"
}

cmd_topics() {
  installed_version >/dev/null || die "Kafka jars not fetched yet; run '$PROG fetch' or '$PROG start'"
  ensure_tools
  run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "localhost:$KAFKA_PORT" "$@"
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    topics) cmd_topics "$@" ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
