"""`make deploy-check` passes on the real overlays and fails on a broken copy; the KafkaTopic
manifests are the topic registry's."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from shared.settings import DEVELOPMENT_MODE
from shared.topics import ALL_TOPICS
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
CHECK = K8S / "check.sh"
TOOLS = Path(os.environ.get("WAGATE_LOCAL", ROOT / ".local")) / "deploy-tools"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_topics", K8S / "gen_topics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


@pytest.fixture(scope="module")
def tools() -> None:
    if not (TOOLS / "bin/kustomize").exists() or not (TOOLS / "venv/bin/python").exists():
        unavailable("deploy tools", f"nothing in {TOOLS}: run `make deploy-tools` once")


def deploy_check(k8s: Path, overlays: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEPLOY_K8S": str(k8s), "WAGATE_LOCAL": str(TOOLS.parent)}
    env["DEPLOY_OVERLAYS"] = overlays
    return subprocess.run(
        [str(CHECK)], env=env, capture_output=True, text=True, timeout=100, check=False
    )


def broken_copy(tmp_path: Path, file: str, old: str, new: str) -> Path:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / file
    text = target.read_text()
    assert old in text, f"{old!r} is no longer in {file}: update this test"
    target.write_text(text.replace(old, new, 1))
    return copy


def test_real_overlays_pass(tools: None) -> None:
    result = deploy_check(K8S)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dev:" in result.stdout and "prod:" in result.stdout


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        pytest.param(
            "base/ingest.yaml",
            "terminationGracePeriodSeconds: 40",
            "terminationGracePeriod: 40",
            "terminationGracePeriod",
            id="unknown-field-in-deployment",
        ),
        pytest.param(
            "components/kafka-users/users.yaml",
            "patternType: prefix",
            "patternType: prefixed",
            "kafkauser-kafka.strimzi.io-v1.json",
            id="crd-enum",
        ),
        pytest.param(
            "base/dispatch.yaml",
            "DISPATCH_KAFKA__BOOTSTRAP:",
            "DISPATCH_KAFKA_BOOTSTRAP:",
            "DISPATCH_KAFKA_BOOTSTRAP is no setting",
            id="config-key-typo",
        ),
        pytest.param(
            "base/templates.yaml",
            "            - name: TEMPLATES_API_KEYS\n"
            "              valueFrom:\n"
            "                secretKeyRef:\n"
            "                  name: wagate-templates\n"
            "                  key: api-keys\n",
            "",
            "TEMPLATES_API_KEYS is a credential with a development default",
            id="credential-left-at-its-default",
        ),
        pytest.param(
            "base/dispatch.yaml",
            "            - name: DISPATCH_SEALING_KEYS\n"
            "              valueFrom:\n"
            "                secretKeyRef:\n"
            "                  name: wagate-sealing\n"
            "                  key: keys\n",
            "",
            "DISPATCH_SEALING_KEYS is a secret with no default: set it from a Secret",
            id="required-secret-missing",
        ),
        pytest.param(
            "base/ingest.yaml",
            "  INGEST_LOG__LEVEL: INFO\n",
            '  INGEST_LOG__LEVEL: INFO\n  WAGATE_DEVELOPMENT: "true"\n',
            "WAGATE_DEVELOPMENT is set: development mode accepts the public development secrets",
            id="development-mode-in-a-configmap",
        ),
        pytest.param(
            "base/templates.yaml",
            "          env:\n",
            '          env:\n            - name: WAGATE_DEVELOPMENT\n              value: "1"\n',
            "WAGATE_DEVELOPMENT is set",
            id="development-mode-in-a-container",
        ),
        pytest.param(
            "base/console.yaml",
            '  CONSOLE_TOKENS: "[]"\n  CONSOLE_TOKENS_FILE: /etc/wagate/console/tokens.json\n',
            "",
            "CONSOLE_TOKENS is a credential with a development default: set it from a Secret",
            id="console-left-with-its-development-token",
        ),
        pytest.param(
            "base/console.yaml",
            '  CONSOLE_TOKENS: "[]"\n  CONSOLE_TOKENS_FILE: /etc/wagate/console/tokens.json\n',
            """  CONSOLE_TOKENS: '[{"name": "ana", "token": "own-console-token-0123"}]'\n""",
            "CONSOLE_TOKENS is a credential with a development default: set it from a Secret",
            id="console-token-in-a-configmap",
        ),
        pytest.param(
            "components/kafka-users/users.yaml",
            "name: wagate.consent.v1",
            "name: wagate.consents.v1",
            "ACL on topic wagate.consents.v1, which no KafkaTopic declares",
            id="acl-on-unknown-topic",
        ),
        pytest.param(
            "base/policy.yaml",
            "readOnlyRootFilesystem: true",
            "readOnlyRootFilesystem: false",
            "readOnlyRootFilesystem must be true",
            id="writable-root",
        ),
        pytest.param(
            "components/monitoring/prometheus-rules.yaml",
            "wagate_dispatch_retries_total",
            "wagate_dispatch_no_such_metric_total",
            "wagate_dispatch_no_such_metric_total, which no service exports",
            id="alert-on-unknown-metric",
        ),
        pytest.param(
            "components/monitoring/grafana-dashboard.json",
            "sum by (outcome) (rate(",
            "sum by (outcome (rate(",
            "unbalanced brackets",
            id="dashboard-query-typo",
        ),
        pytest.param(
            "components/kafka-topics/topics.yaml",
            "partitions: 12",
            "partitions: 24",
            "run `make deploy-topics`",
            id="topics-edited-by-hand",
        ),
    ],
)
def test_broken_manifest_fails(
    tools: None, tmp_path: Path, file: str, old: str, new: str, message: str
) -> None:
    # prod combines every component but the sandbox and CloudNativePG, so it shows each break
    result = deploy_check(broken_copy(tmp_path, file, old, new), overlays="prod")
    assert result.returncode != 0, result.stdout
    assert message in result.stderr, result.stderr
    assert "deploy-check: FAILED" in result.stderr


def test_a_rendered_secret_holding_a_public_default_fails(tools: None, tmp_path: Path) -> None:
    copy = broken_copy(
        tmp_path,
        "overlays/dev/kustomization.yaml",
        "access-token=dev-access-token",
        "access-token=sandbox-token",
    )
    result = deploy_check(copy, overlays="dev")
    assert result.returncode != 0, result.stdout
    refused = "the service would refuse to start: {} has its public development default"
    assert refused.format("DISPATCH_CLOUD_API__ACCESS_TOKEN") in result.stderr, result.stderr
    assert refused.format("TEMPLATES_CLOUD_API__ACCESS_TOKEN") in result.stderr


def test_no_manifest_sets_the_development_mode() -> None:
    manifests = [p for p in K8S.rglob("*") if p.suffix in {".yaml", ".yml", ".json"}]
    assert manifests
    assert not [p for p in manifests if DEVELOPMENT_MODE in p.read_text()]


def test_generated_topics_match_registry() -> None:
    generator = load_generator()
    checked_in = (K8S / "components/kafka-topics/topics.yaml").read_text()
    assert checked_in == generator.expected(), "run `make deploy-topics`"
    for log in generator.policy_changelogs():
        assert f"topicName: {log.name}\n" in checked_in
    for spec in ALL_TOPICS:
        manifest = generator.manifest(spec)
        assert f"topicName: {spec.name}\n" in manifest
        assert f"partitions: {spec.partitions}\n" in manifest
        assert f'cleanup.policy: "{spec.config["cleanup.policy"]}"' in manifest
        assert f'retention.ms: "{spec.retention_ms}"' in manifest


def test_topic_check_names_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    generator = load_generator()
    stale = tmp_path / "topics.yaml"
    stale.write_text(generator.render(ALL_TOPICS[:-1]))
    assert generator.main(["--check", "--output", str(stale)]) == 1
    assert "make deploy-topics" in capsys.readouterr().err
    assert generator.main(["--output", str(stale)]) == 0
    assert generator.main(["--check", "--output", str(stale)]) == 0
