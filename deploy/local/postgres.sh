#!/usr/bin/env bash
# Local throwaway PostgreSQL 15 cluster for development and tests, run from
# the system binaries (installed with apt-get if missing). No Docker.
#
# Usage: deploy/local/postgres.sh install|start|stop|status|reset|url
#
# Everything lives under $WAGATE_LOCAL (default: <repo>/.local).
set -euo pipefail

PROG=postgres.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
WAGATE_LOCAL=${WAGATE_LOCAL:-$REPO_ROOT/.local}
mkdir -p "$WAGATE_LOCAL"
WAGATE_LOCAL=$(cd "$WAGATE_LOCAL" && pwd -P)

PG_PORT=${PG_PORT:-55432}
PG_HOST=127.0.0.1
PG_DB=wagate
PG_USER=wagate
PG_PASSWORD=wagate
PG_MAJOR=15
PG_START_TIMEOUT=${PG_START_TIMEOUT:-60}
PG_STOP_TIMEOUT=${PG_STOP_TIMEOUT:-20}
PG_OS_USER=postgres

PG_HOME=$WAGATE_LOCAL/pg
LOG_DIR=$WAGATE_LOCAL/logs
LOG_FILE=$LOG_DIR/postgres.log
INSTALL_LOG=$LOG_DIR/postgres-install.log
RUN_DIR=$WAGATE_LOCAL/run
PID_FILE=$RUN_DIR/postgres.pid
LOCK_FILE=$RUN_DIR/postgres.lock
URL="postgresql://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB"

# Set by resolve_paths / find_bindir.
PG_REAL_HOME=""
DATA_DIR=""
SOCK_DIR=""
BIN=""

# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat >&2 <<EOF
usage: $PROG install|start|stop|status|reset|url
  install  install the PostgreSQL $PG_MAJOR binaries if missing and create the cluster
  start    install if needed, start on $PG_HOST:$PG_PORT, create role+db '$PG_DB', wait until ready
  stop     stop the server (pg_ctl stop -m fast, then SIGKILL after ${PG_STOP_TIMEOUT}s)
  status   print whether the server runs; exit 0 if running, 3 if not
  reset    stop and delete the cluster data
  url      print the DATABASE_URL of the local server
EOF
}

if ! [[ $PG_PORT =~ ^[0-9]+$ ]] || ((PG_PORT < 1 || PG_PORT > 65535)); then
  die "PG_PORT must be a TCP port number, got '$PG_PORT'"
fi

# --- helpers -----------------------------------------------------------------

take_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$LOCK_FILE"
  flock -w $((PG_START_TIMEOUT + PG_STOP_TIMEOUT + 120)) 9 ||
    die "another postgres.sh is still running (lock $LOCK_FILE)"
}

# Run a command as the PostgreSQL OS user (initdb and the server refuse
# root), from a directory that user can read.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

# --- install -----------------------------------------------------------------

has_binaries() {  # dir
  local d=$1 b
  [[ -n $d ]] || return 1
  for b in initdb pg_ctl postgres pg_isready psql; do
    [[ -x $d/$b ]] || return 1
  done
}

find_bindir() {
  local d candidates=()
  [[ -n ${PG_BIN:-} ]] && candidates+=("$PG_BIN")
  candidates+=("/usr/lib/postgresql/$PG_MAJOR/bin")
  if command -v pg_config >/dev/null 2>&1; then
    candidates+=("$(pg_config --bindir 2>/dev/null || true)")
  fi
  if [[ -d /usr/lib/postgresql ]]; then
    while IFS= read -r d; do candidates+=("$d"); done \
      < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -Vr)
  fi
  for d in "${candidates[@]}"; do
    if has_binaries "$d"; then
      BIN=$d
      return 0
    fi
  done
  return 1
}

apt_install_postgres() {
  [[ $EUID -eq 0 ]] || die "PostgreSQL server binaries not found and not root; install postgresql-$PG_MAJOR (or set PG_BIN)"
  command -v apt-get >/dev/null 2>&1 || die "PostgreSQL server binaries not found and no apt-get; install PostgreSQL $PG_MAJOR (or set PG_BIN)"
  mkdir -p "$LOG_DIR"
  info "installing PostgreSQL with apt-get (first run only)"
  # Do not let the package create and start a system-wide 'main' cluster.
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/no-main-cluster.conf
  fi
  local pkg=postgresql-$PG_MAJOR
  {
    apt-get update -q || exit 1
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      pkg=postgresql
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$pkg" || exit 1
  } >"$INSTALL_LOG" 2>&1 || {
    tail -n 20 "$INSTALL_LOG" >&2 || true
    die "apt-get install of PostgreSQL failed (see $INSTALL_LOG)"
  }
}

ensure_binaries() {
  find_bindir && return 0
  apt_install_postgres
  find_bindir || die "PostgreSQL installed but initdb/pg_ctl/postgres not found under /usr/lib/postgresql/*/bin"
}

ensure_os_user() {
  [[ $EUID -eq 0 ]] || return 0
  command -v runuser >/dev/null 2>&1 || die "runuser not found (util-linux); needed to run PostgreSQL as '$PG_OS_USER'"
  id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
  info "creating OS user '$PG_OS_USER'"
  if getent group "$PG_OS_USER" >/dev/null 2>&1; then
    useradd --system --gid "$PG_OS_USER" --home-dir /var/lib/postgresql --no-create-home --shell /bin/sh "$PG_OS_USER"
  else
    useradd --system --user-group --home-dir /var/lib/postgresql --no-create-home --shell /bin/sh "$PG_OS_USER"
  fi
}

# Decide where the cluster lives. Normally $WAGATE_LOCAL/pg; if the
# PostgreSQL OS user cannot reach it (e.g. the repo is under /root) or the
# socket path would be too long for a unix socket, use a directory under
# /tmp and make $WAGATE_LOCAL/pg a symlink to it.
resolve_paths() {
  local ok=1 alt sock_len
  if [[ -L $PG_HOME ]]; then
    PG_REAL_HOME=$(readlink -f "$PG_HOME")
    mkdir -p "$PG_REAL_HOME"
  else
    mkdir -p "$PG_HOME"
    PG_REAL_HOME=$(cd "$PG_HOME" && pwd -P)
    if [[ $EUID -eq 0 ]] && ! runuser -u "$PG_OS_USER" -- test -x "$PG_REAL_HOME" 2>/dev/null; then
      ok=0
    fi
    sock_len=$((${#PG_REAL_HOME} + ${#PG_PORT} + 16))  # "/sock/.s.PGSQL.<port>"
    ((sock_len < 100)) || ok=0
    if ((ok == 0)); then
      alt=/tmp/wagate-pg-$(printf '%s' "$WAGATE_LOCAL" | cksum | cut -d' ' -f1)
      [[ -e $PG_HOME/data/PG_VERSION ]] &&
        die "$PG_HOME is not usable by the '$PG_OS_USER' user (or its path is too long); run '$PROG reset' or set WAGATE_LOCAL"
      rm -rf "$PG_HOME"
      mkdir -p "$alt"
      chmod 755 "$alt"
      ln -sfn "$alt" "$PG_HOME"
      PG_REAL_HOME=$alt
    fi
  fi
  DATA_DIR=$PG_REAL_HOME/data
  SOCK_DIR=$PG_REAL_HOME/sock
}

write_config() {
  cat >"$DATA_DIR/wagate.conf" <<EOF
# Written by deploy/local/postgres.sh on every start. Throwaway settings.
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$SOCK_DIR'
max_connections = 200
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
timezone = 'UTC'
log_timezone = 'UTC'
EOF
  if ! grep -q "^include_if_exists = 'wagate.conf'" "$DATA_DIR/postgresql.conf"; then
    echo "include_if_exists = 'wagate.conf'" >>"$DATA_DIR/postgresql.conf"
  fi
  [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$DATA_DIR/wagate.conf"
  return 0
}

init_cluster() {
  mkdir -p "$SOCK_DIR" "$LOG_DIR"
  [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$SOCK_DIR"
  chmod 755 "$SOCK_DIR"
  if [[ ! -f $DATA_DIR/PG_VERSION ]]; then
    rm -rf "$DATA_DIR"
    mkdir -p "$DATA_DIR"
    [[ $EUID -eq 0 ]] && chown "$PG_OS_USER:" "$DATA_DIR"
    chmod 700 "$DATA_DIR"
    if ! as_pg "$BIN/initdb" -D "$DATA_DIR" -U postgres -E UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 --no-sync \
        >"$LOG_DIR/postgres-initdb.log" 2>&1; then
      tail -n 20 "$LOG_DIR/postgres-initdb.log" >&2 || true
      die "initdb failed (see $LOG_DIR/postgres-initdb.log)"
    fi
  fi
  write_config
}

cmd_install() {
  take_lock
  ensure_binaries
  ensure_os_user
  resolve_paths
  init_cluster
}

# --- runtime -------------------------------------------------------------------

# PID of the postmaster running on our data directory, or nothing.
running_pid() {
  local pid="" cmd
  [[ -n $DATA_DIR && -f $DATA_DIR/postmaster.pid ]] && pid=$(head -n1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)
  if pid_alive "$pid"; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)
    if [[ $cmd == *"-D $DATA_DIR "* ]]; then
      echo "$pid"
      return 0
    fi
  fi
  # Fall back to scanning for a postmaster started on our data directory.
  local d comm
  for d in /proc/[0-9]*; do
    { comm=$(<"$d/comm"); } 2>/dev/null || continue
    [[ $comm == postgres ]] || continue
    cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
    if [[ -n $DATA_DIR && $cmd == *"-D $DATA_DIR "* ]]; then
      echo "${d#/proc/}"
      return 0
    fi
  done
  return 0
}

children_of() {  # pid -> direct children
  local d stat rest fields
  for d in /proc/[0-9]*; do
    { stat=$(<"$d/stat"); } 2>/dev/null || continue
    rest=${stat##*) }
    read -r -a fields <<<"$rest"
    [[ ${fields[1]:-} == "$1" ]] && echo "${d#/proc/}"
  done
  return 0
}

psql_admin() {
  "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK_DIR" -p "$PG_PORT" -U postgres -d postgres -f -
}

ensure_db() {
  psql_admin >/dev/null <<EOF || die "could not create role/database '$PG_DB' (see $LOG_FILE)"
SELECT 'CREATE ROLE $PG_USER LOGIN CREATEDB'
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER') \gexec
ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
SELECT 'CREATE DATABASE $PG_DB OWNER $PG_USER'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DB') \gexec
EOF
  "$BIN/psql" -X -q -tA "$URL" -c 'SELECT 1' >/dev/null 2>&1 ||
    die "server is up but '$URL' does not accept connections"
}

wait_ready() {  # pid
  local pid=$1 deadline=$((SECONDS + PG_START_TIMEOUT))
  until "$BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -d postgres -t 2; do
    if ! pid_alive "$pid"; then
      show_log_tail
      die "PostgreSQL exited during startup (log: $LOG_FILE)"
    fi
    if ((SECONDS >= deadline)); then
      show_log_tail
      die "PostgreSQL not ready on $PG_HOST:$PG_PORT after ${PG_START_TIMEOUT}s (log: $LOG_FILE)"
    fi
    sleep 0.2
  done
}

# Stop a server that failed to become ready in time (it may still be
# writing postmaster.pid).
abort_start() {
  local i pid
  for ((i = 0; i < 25; i++)); do
    pid=$(running_pid)
    if [[ -n $pid ]]; then
      as_pg "$BIN/pg_ctl" -D "$DATA_DIR" -m immediate -w -t 10 -s stop >/dev/null 2>&1 ||
        kill -KILL "$pid" 2>/dev/null || true
      wait_reaped "$pid"
      break
    fi
    sleep 0.2
  done
  rm -f "$PID_FILE"
}

cmd_start() {
  local pid owner
  take_lock
  ensure_binaries
  ensure_os_user
  resolve_paths
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    echo "$pid" >"$PID_FILE"
    wait_ready "$pid"
    ensure_db
    echo "postgres ready on $PG_HOST:$PG_PORT"
    return 0
  fi
  if port_open "$PG_PORT"; then
    owner=$(port_owner "$PG_PORT")
    die "port $PG_PORT is already in use by another process${owner:+ ($owner)}, not by our PostgreSQL; stop it, pick another PG_PORT, or set DATABASE_URL to use an existing server"
  fi
  init_cluster
  rm -f "$DATA_DIR/postmaster.pid"
  [[ -f $LOG_FILE ]] && mv -f "$LOG_FILE" "$LOG_FILE.1"
  : >"$LOG_FILE"
  # Without -l the server keeps pg_ctl's stdout/stderr: the log file opened
  # here, so the OS user needs no access to $LOG_DIR.
  if ! as_pg "$BIN/pg_ctl" -D "$DATA_DIR" -w -t "$PG_START_TIMEOUT" -s start \
      </dev/null >>"$LOG_FILE" 2>&1 9>&-; then
    show_log_tail
    abort_start
    die "PostgreSQL did not start within ${PG_START_TIMEOUT}s (log: $LOG_FILE)"
  fi
  pid=$(head -n1 "$DATA_DIR/postmaster.pid" 2>/dev/null || true)
  [[ -n $pid ]] || { show_log_tail; die "PostgreSQL started but wrote no postmaster.pid"; }
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid"
  ensure_db
  echo "postgres ready on $PG_HOST:$PG_PORT"
}

cmd_stop() {
  local pid pids deadline p alive
  take_lock
  if ! find_bindir; then
    rm -f "$PID_FILE"
    echo "postgres stopped (was not running)"
    return 0
  fi
  ensure_os_user
  resolve_paths
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    rm -f "$PID_FILE"
    echo "postgres stopped (was not running)"
    return 0
  fi
  mapfile -t pids < <(children_of "$pid")
  as_pg "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t "$PG_STOP_TIMEOUT" -s stop >/dev/null 2>&1 || true
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 5))
    while pid_alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  fi
  if pid_alive "$pid"; then
    info "PostgreSQL did not stop; sending SIGKILL to $pid"
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$DATA_DIR/postmaster.pid"
  fi
  # Backends exit on their own once the postmaster is gone; make sure.
  deadline=$((SECONDS + 5))
  while ((SECONDS < deadline)); do
    alive=()
    for p in "${pids[@]}"; do pid_alive "$p" && alive+=("$p"); done
    ((${#alive[@]} == 0)) && break
    sleep 0.2
  done
  for p in "${pids[@]}"; do pid_alive "$p" && kill -KILL "$p" 2>/dev/null; done
  wait_reaped "$pid" "${pids[@]}"
  rm -f "$PID_FILE"
  echo "postgres stopped"
}

cmd_status() {
  local pid
  mkdir -p "$RUN_DIR"
  if ! find_bindir; then
    echo "postgres not installed"
    return 3
  fi
  ensure_os_user
  resolve_paths
  pid=$(running_pid)
  if [[ -z $pid ]]; then
    echo "postgres not running"
    return 3
  fi
  if "$BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT" -t 2; then
    echo "postgres running (pid $pid) on $PG_HOST:$PG_PORT"
  else
    echo "postgres starting or unhealthy (pid $pid; log: $LOG_FILE)"
  fi
}

cmd_reset() {
  local home
  cmd_stop
  home=$(readlink -f "$PG_HOME" 2>/dev/null || echo "$PG_HOME")
  rm -rf "$home/data" "$home/sock"
  echo "postgres data deleted ($home/data)"
}

main() {
  case ${1:-} in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    reset) cmd_reset ;;
    url) echo "$URL" ;;
    -h | --help | help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
