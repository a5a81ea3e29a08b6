#!/usr/bin/env bash
# Runs the whole system in the foreground: Kafka, PostgreSQL, topics, and the services under
# honcho, each started again when it crashes (restarting.sh says so). Ctrl-C (or `run.sh stop`
# from another terminal) stops all of it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL=${WAGATE_LOCAL:-$ROOT/.local}
PIDFILE=$LOCAL/run/wagate-run.pid
BIN=$ROOT/.venv/bin
PROG=run.sh
# shellcheck source=deploy/local/lib.sh
source "$ROOT/deploy/local/lib.sh"

stop_all() {
  if [[ -f $PIDFILE ]]; then
    local pid
    pid=$(cat "$PIDFILE")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
  fi
  # services started by a run whose supervisor died (their restart wrappers first)
  pkill -TERM -f "deploy/local/restarting\.sh " 2>/dev/null || true
  pkill -TERM -f "$BIN/python -m services\." 2>/dev/null || true
  pkill -TERM -f "python -m services\.(sandbox|ingest|templates|policy|dispatch)$" 2>/dev/null || true
  "$ROOT/deploy/local/infra.sh" down
}

if [[ ${1:-} == stop ]]; then
  stop_all
  exit 0
fi

mkdir -p "$LOCAL/run"
if [[ -f $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "wagate is already running (pid $(cat "$PIDFILE")); stop it with: make stop" >&2
  exit 1
fi

"$ROOT/deploy/local/infra.sh" up
export PATH=$BIN:$PATH PYTHONUNBUFFERED=1
export POLICY_DATA_DIR=$LOCAL/policy
# the sandbox keeps its world (templates, customers) here across make stop + make run
export SANDBOX_STATE_FILE=${SANDBOX_STATE_FILE:-$LOCAL/sandbox/world.pickle}
# development mode, this machine's sealing keys and console token (LOCAL/secrets.env, made once)
development_env "$LOCAL" "$BIN/python"
CONSOLE_TOKEN=$(console_token "$BIN/python")
# the starter templates, created in the sandbox's account at start
export TEMPLATES_SEED_WABA_ID=${TEMPLATES_SEED_WABA_ID:-100000000000001}
# media: the development key `wagate media upload` uses; files kept under .local/media
export DISPATCH_MEDIA__API_KEYS=${DISPATCH_MEDIA__API_KEYS:-'["wagate-dev-key"]'}
export DISPATCH_MEDIA__OUTBOUND_DIR=$LOCAL/media/outbound DISPATCH_MEDIA__INBOUND_DIR=$LOCAL/media/inbound
"$BIN/wagate" topics create

cat <<INFO

wagate is starting:
  kafka       localhost:${KAFKA_PORT:-9092}
  postgres    127.0.0.1:${PG_PORT:-55432}  (database wagate)
  ingest      http://127.0.0.1:8081   POST /webhook   (Meta's webhooks)
  templates   http://127.0.0.1:8082
  policy      http://127.0.0.1:8083
  dispatch    http://127.0.0.1:8084
  sandbox     http://127.0.0.1:8090   (the local Cloud API)
  console     http://127.0.0.1:8085   (sign in with the token $CONSOLE_TOKEN)
every service: /healthz /readyz /metrics.   Stop: Ctrl-C here, or 'make stop'.

INFO

cd "$ROOT"
honcho -f deploy/local/Procfile start &
echo $! >"$PIDFILE"
trap 'kill -TERM $(cat "$PIDFILE") 2>/dev/null || true' INT TERM
wait "$(cat "$PIDFILE")" || true
rm -f "$PIDFILE"
"$ROOT/deploy/local/infra.sh" down
