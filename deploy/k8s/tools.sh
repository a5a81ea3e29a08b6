#!/usr/bin/env bash
# Installs what `make deploy-check` needs into $WAGATE_LOCAL/deploy-tools, once: kustomize (built
# with the Go toolchain from the Go module proxy) and a virtualenv with kubernetes-validate (it
# bundles the Kubernetes JSON schemas) and hadolint. After that, every check runs offline.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${WAGATE_LOCAL:-$ROOT/.local}/deploy-tools"
KUSTOMIZE_VERSION=v5.8.1 # v5.8.2+ needs Go 1.27
PYTHON="${PYTHON:-python3}"

install_kustomize() {
  if [[ -x "$TOOLS/bin/kustomize" ]] && "$TOOLS/bin/kustomize" version 2>/dev/null | grep -qx "$KUSTOMIZE_VERSION"; then
    return
  fi
  if ! command -v go >/dev/null; then
    echo "deploy-tools: kustomize $KUSTOMIZE_VERSION is built with Go (1.24+); install Go first" >&2
    exit 1
  fi
  echo "deploy-tools: building kustomize $KUSTOMIZE_VERSION (about a minute, once)"
  mkdir -p "$TOOLS/bin"
  GOTOOLCHAIN=local GOBIN="$TOOLS/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
}

install_venv() {
  local requirements="$ROOT/deploy/k8s/requirements.txt" stamp="$TOOLS/venv/.installed"
  if [[ -f "$stamp" ]] && cmp -s "$requirements" "$stamp"; then
    return
  fi
  echo "deploy-tools: installing $(grep -cv '^#' "$requirements") Python packages"
  test -x "$TOOLS/venv/bin/python" || "$PYTHON" -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$stamp"
}

install_kustomize
install_venv
