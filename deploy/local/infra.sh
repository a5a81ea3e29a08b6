#!/usr/bin/env bash
# Start/stop the whole local infrastructure: Kafka (kafka.sh) and
# PostgreSQL (postgres.sh).
#
# Usage: deploy/local/infra.sh up|down|status|env
#
#   up      start both and wait until ready (in parallel). A server is
#           skipped when its env var points elsewhere: KAFKA_BOOTSTRAP for
#           Kafka, DATABASE_URL for PostgreSQL.
#   down    stop both (always; leaves no process of ours behind)
#   status  status of both; exit 0 only if every needed server runs
#   env     print KAFKA_BOOTSTRAP=... and DATABASE_URL=... lines
set -euo pipefail

PROG=infra.sh
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_PORT=${KAFKA_PORT:-9092}
PG_PORT=${PG_PORT:-55432}

die() { echo "$PROG: error: $*" >&2; exit 1; }

usage() {
  sed -n 's/^# \{0,1\}//; 5,12p' "${BASH_SOURCE[0]}" >&2
}

want_kafka() { [[ -z ${KAFKA_BOOTSTRAP:-} ]]; }
want_pg() { [[ -z ${DATABASE_URL:-} ]]; }

cmd_up() {
  local pg_job="" rc_pg=0 rc_kafka=0
  want_pg || echo "postgres: using DATABASE_URL from the environment (not starting a local server)"
  want_kafka || echo "kafka: using KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP from the environment (not starting a local broker)"
  if want_pg; then
    "$SCRIPT_DIR/postgres.sh" start &
    pg_job=$!
  fi
  if want_kafka; then
    "$SCRIPT_DIR/kafka.sh" start || rc_kafka=$?
  fi
  if [[ -n $pg_job ]]; then
    wait "$pg_job" || rc_pg=$?
  fi
  ((rc_kafka == 0)) || die "kafka did not start (see above)"
  ((rc_pg == 0)) || die "postgres did not start (see above)"
}

cmd_down() {
  local rc=0 pg_job
  "$SCRIPT_DIR/postgres.sh" stop &
  pg_job=$!
  "$SCRIPT_DIR/kafka.sh" stop || rc=1
  wait "$pg_job" || rc=1
  return "$rc"
}

cmd_status() {
  local rc=0
  if want_kafka; then
    "$SCRIPT_DIR/kafka.sh" status || rc=3
  else
    echo "kafka external: $KAFKA_BOOTSTRAP"
  fi
  if want_pg; then
    "$SCRIPT_DIR/postgres.sh" status || rc=3
  else
    echo "postgres external: DATABASE_URL is set"
  fi
  return "$rc"
}

cmd_env() {
  echo "KAFKA_BOOTSTRAP=${KAFKA_BOOTSTRAP:-localhost:$KAFKA_PORT}"
  echo "DATABASE_URL=${DATABASE_URL:-postgresql://wagate:wagate@127.0.0.1:$PG_PORT/wagate}"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  -h | --help | help) usage ;;
  *) usage; exit 2 ;;
esac
