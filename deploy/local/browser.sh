#!/usr/bin/env bash
# The headless browser the console's tests drive: Debian's chromium and chromium-driver.
#   browser.sh install   install them with apt-get when /usr/bin/chromium is missing (idempotent)
#   browser.sh check     exit 0 when both are there, 1 (with a line saying what is missing) if not
set -euo pipefail

PROG=browser.sh
CHROMIUM=${WAGATE_CHROMIUM:-/usr/bin/chromium}
DRIVER=${WAGATE_CHROMEDRIVER:-/usr/bin/chromedriver}

missing() {
  local what=()
  [[ -x $CHROMIUM ]] || what+=("$CHROMIUM")
  [[ -x $DRIVER ]] || what+=("$DRIVER")
  echo "${what[*]:-}"
}

case ${1:-install} in
  check)
    gone=$(missing)
    if [[ -n $gone ]]; then
      echo "$PROG: missing: $gone (run deploy/local/browser.sh install)" >&2
      exit 1
    fi
    ;;
  install)
    [[ -z $(missing) ]] && exit 0
    if ! command -v apt-get >/dev/null 2>&1; then
      echo "$PROG: no apt-get here; install chromium and chromium-driver by hand" >&2
      exit 1
    fi
    sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "$PROG: installing chromium and chromium-driver" >&2
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
      chromium chromium-driver >/dev/null
    gone=$(missing)
    [[ -z $gone ]] || { echo "$PROG: still missing after install: $gone" >&2; exit 1; }
    ;;
  *)
    echo "usage: $PROG install|check" >&2
    exit 2
    ;;
esac
