#!/usr/bin/env bash
# `make deploy-check`: the Dockerfile passes hadolint, the KafkaTopics match shared/topics.py,
# and every overlay renders with kustomize and validates offline (Kubernetes schemas of the
# oldest and newest supported releases, vendored CRD schemas, hardening rules, settings names).
# DEPLOY_K8S points at another copy of deploy/k8s (the tests break one on purpose);
# DEPLOY_OVERLAYS="prod" checks only the overlays named.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/deploy/k8s"
K8S="${DEPLOY_K8S:-$HERE}"
LOCAL="${WAGATE_LOCAL:-$ROOT/.local}"
TOOLS="$LOCAL/deploy-tools"
KUBERNETES_VERSIONS=(1.31 1.37)
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT

"$HERE/tools.sh"
failed=0

"$TOOLS/venv/bin/hadolint" "$ROOT/Dockerfile" && echo "Dockerfile: hadolint clean" || failed=1

"$ROOT/.venv/bin/python" "$HERE/gen_topics.py" --check \
  --output "$K8S/components/kafka-topics/topics.yaml" || failed=1

versions=()
for version in "${KUBERNETES_VERSIONS[@]}"; do versions+=(--kubernetes "$version"); done
for overlay in "$K8S"/overlays/*/; do
  name="$(basename "$overlay")"
  if [[ -n "${DEPLOY_OVERLAYS:-}" && " $DEPLOY_OVERLAYS " != *" $name "* ]]; then
    continue
  fi
  if ! "$TOOLS/bin/kustomize" build "$overlay" >"$OUT/$name.yaml"; then
    echo "$name: kustomize build failed" >&2
    failed=1
    continue
  fi
  site=(); [[ -f "$overlay/site.yaml" ]] && site=(--site "$overlay/site.yaml")
  "$TOOLS/venv/bin/python" "$HERE/validate.py" "$OUT/$name.yaml" "${versions[@]}" "${site[@]}" \
    --source "$ROOT" --dump "$OUT/$name.json" || failed=1
  "$ROOT/.venv/bin/python" "$HERE/check_config.py" "$OUT/$name.json" || failed=1
done

if ((failed)); then
  echo "deploy-check: FAILED (see the lines above)" >&2
  exit 1
fi
echo "deploy-check: all overlays valid (Kubernetes ${KUBERNETES_VERSIONS[*]})"
