#!/usr/bin/env bash
# Runs one service of `make run` and starts it again when it exits with an error (a crash, or a
# background loop that kept failing), saying so; a clean exit or SIGTERM/SIGINT (honcho's stop)
# ends it. Usage: restarting.sh NAME COMMAND [ARGS...]
set -uo pipefail

name=$1
shift
stopping=0
child=0
delay=1
trap 'stopping=1; [[ $child -ne 0 ]] && kill -TERM "$child" 2>/dev/null' TERM INT

while :; do
  "$@" &
  child=$!
  wait "$child"
  code=$?
  # a signal interrupts `wait` before the child is gone: wait for it to finish
  while kill -0 "$child" 2>/dev/null; do wait "$child"; code=$?; done
  child=0
  if [[ $stopping -eq 1 || $code -eq 0 ]]; then
    exit "$code"
  fi
  echo "$name exited with status $code; restarting it in ${delay}s" >&2
  sleep "$delay" &
  wait $! || true
  [[ $stopping -eq 1 ]] && exit "$code"
  delay=$((delay < 30 ? delay * 2 : 30))
done
