# Helpers shared by kafka.sh and postgres.sh (sourced; they set PROG and LOG_FILE first).
# shellcheck shell=bash

die() { echo "$PROG: error: $*" >&2; exit 1; }
info() { echo "$PROG: $*" >&2; }

# True if PID exists and is not a zombie (PID 1 may be slow to reap).
pid_alive() {
  local stat
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# Give PID 1 a moment to reap exited processes so they vanish from ps.
wait_reaped() {  # pids...
  local i p left
  for ((i = 0; i < 20; i++)); do
    left=0
    for p in "$@"; do kill -0 "$p" 2>/dev/null && left=1; done
    ((left == 0)) && return 0
    sleep 0.1
  done
  return 0
}

port_open() {  # port
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

port_owner() {  # port -> short description of the listening process, if known
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'users:(([^)]*' | head -n1 | sed 's/users:((//' || true
}

show_log_tail() {
  if [[ -f $LOG_FILE ]]; then
    echo "---- last 30 lines of $LOG_FILE ----" >&2
    tail -n 30 "$LOG_FILE" >&2 || true
    echo "----" >&2
  fi
}

# The environment of a local run (`make run`): development mode, which accepts the services'
# public development secrets, and this machine's own sealing keys (the source holds none) and
# console token, made once with the project's Python into LOCAL/secrets.env (mode 600; delete
# it to renew). A file made before the console had its line gets that line added.
development_env() {  # local python
  local file=$1/secrets.env key token
  mkdir -p "$1"
  if [[ ! -s $file ]]; then
    key=$("$2" -m shared.sealing) || die "cannot make a sealing key with $2"
    (
      umask 077
      printf '%s\n' "# wagate's local secrets, made once by deploy/local/run.sh; delete to renew" \
        "POLICY_SEALING_KEYS='[\"$key\"]'" "DISPATCH_SEALING_KEYS='[\"$key\"]'" >"$file.new"
    )
    mv "$file.new" "$file"
  fi
  if ! grep -q '^CONSOLE_TOKENS=' "$file"; then
    token=$("$2" -c 'import secrets; print(secrets.token_urlsafe(24))') ||
      die "cannot make a console token with $2"
    printf '%s\n' \
      "CONSOLE_TOKENS='[{\"name\": \"dev\", \"token\": \"$token\", \"role\": \"operator\"}]'" \
      >>"$file"
  fi
  set -a
  # shellcheck source=/dev/null
  source "$file"
  set +a
  export WAGATE_DEVELOPMENT=true
}

# The console token of a local run (after development_env), for the banner.
console_token() {  # python
  "$1" -c 'import json, os; print(json.loads(os.environ["CONSOLE_TOKENS"])[0]["token"])'
}
