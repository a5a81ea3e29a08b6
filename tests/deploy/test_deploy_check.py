"""`make deploy-check` passes on the real overlays and fails on a broken copy (a field, a Secret
named like one an operator writes, a missing or empty site value, a listener the services cannot
use); the KafkaTopic manifests are the topic registry's."""

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
from tests.deploy.conftest import K8S, TOOLS

CHECK = K8S / "check.sh"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_topics", K8S / "gen_topics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules[spec.name]


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
    for overlay in OVERLAYS:
        assert f"{overlay}: " in result.stdout, result.stdout
    assert "4 jobs' settings: no errors" in result.stdout


# prod combines every component but the sandbox, the example Kafka, CloudNativePG and the
# Gateway API route, so it shows each break of those it has
BROKEN_PROD = [
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
        "DISPATCH_KAFKA__CLIENT_ID:",
        "DISPATCH_KAFKA_CLIENT_ID:",
        "DISPATCH_KAFKA_CLIENT_ID is no setting",
        id="config-key-typo",
    ),
    pytest.param(
        "base/templates.yaml",
        "            - name: TEMPLATES_API_KEYS\n"
        "              valueFrom:\n"
        "                secretKeyRef:\n"
        "                  name: wagate-templates-api\n"
        "                  key: api-keys\n",
        "",
        # the site component names the Secret of every credential, so the render stops
        "env.[name=TEMPLATES_API_KEYS].valueFrom.secretKeyRef.name",
        id="credential-left-at-its-default",
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
    pytest.param(
        "overlays/prod/site.yaml",
        "TEMPLATES_API_SECRET: wagate-templates-api",
        "TEMPLATES_API_SECRET: wagate-templates",
        "reads key api-keys of Secret wagate-templates, but Strimzi's User Operator "
        "(KafkaUser wagate-templates) writes that Secret",
        id="secret-named-like-a-kafka-user",
    ),
    pytest.param(
        "overlays/prod/site.yaml",
        "CONSOLE_SECRET: wagate-console",
        "CONSOLE_SECRET: wagate-console-kafka",
        "reads key tokens.json of Secret wagate-console-kafka, but Strimzi's User Operator "
        "(KafkaUser wagate-console-kafka) writes that Secret",
        id="console-tokens-in-the-console-kafka-users-secret",
    ),
    pytest.param(
        "components/kafka-users/users.yaml",
        "  name: wagate-console-kafka\n",
        "  name: wagate-console\n",
        "reads key tokens.json of Secret wagate-console, but Strimzi's User Operator "
        "(KafkaUser wagate-console) writes that Secret",
        id="console-kafka-user-named-like-its-tokens-secret",
    ),
    pytest.param(
        "overlays/prod/site.yaml",
        "META_SECRET: wagate-meta",
        "META_SECRET: wagate-cluster-ca-cert",
        "reads key app-secrets of Secret wagate-cluster-ca-cert, but Strimzi (Kafka wagate)",
        id="secret-named-like-the-cluster-ca",
    ),
    pytest.param(
        "overlays/prod/site.yaml",
        '  DEFAULT_WABA_ID: "102290129340398"\n',
        "",
        "fieldPath `data.DEFAULT_WABA_ID` is missing for replacement source",
        id="site-value-missing",
    ),
    pytest.param(
        "overlays/prod/site.yaml",
        "KAFKA_BOOTSTRAP: wagate-kafka-bootstrap:9093",
        'KAFKA_BOOTSTRAP: ""',
        "site value KAFKA_BOOTSTRAP is empty",
        id="site-value-empty",
    ),
    pytest.param(
        "overlays/prod/site.yaml",
        "INGRESS_CLASS: nginx",
        'INGRESS_CLASS: "<site: INGRESS_CLASS>"',
        "site value INGRESS_CLASS is still a placeholder",
        id="site-value-placeholder",
    ),
    pytest.param(
        "overlays/prod/kustomization.yaml",
        "  - ../../components/site\n",
        "",
        "still holds <site: DEFAULT_WABA_ID>: list ../../components/site",
        id="site-component-left-out",
    ),
    pytest.param(
        "overlays/prod/site.yaml",
        '    config.kubernetes.io/local-config: "true"\n',
        "",
        'annotate it config.kubernetes.io/local-config: "true"',
        id="site-values-would-be-applied",
    ),
    pytest.param(
        "base/migrations.yaml",
        'command: ["python", "-m", "services.dispatch", "migrate"]',
        'command: ["python", "-m", "services.dispatch", "migrations"]',
        "Job/dispatch-migrate: container dispatch: command must be python -m <service> migrate",
        id="migration-job-command",
    ),
    pytest.param(
        "base/migrations.yaml",
        "                  name: wagate-postgres\n                  key: uri\n",
        "                  name: wagate-postgres\n                  key: uri\n"
        "            - name: INGEST_APP_SECRETS\n              value: '[\"x\"]'\n",
        "INGEST_APP_SECRETS is no setting a migration reads",
        id="migration-job-gets-another-secret",
    ),
    pytest.param(
        "base/migrations.yaml",
        "            allowPrivilegeEscalation: false",
        "            allowPrivilegeEscalation: true",
        "Job/ingest-migrate: container ingest: allowPrivilegeEscalation must be false",
        id="migration-job-unhardened",
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
]
# self-hosted renders the example Kafka, the CloudNativePG cluster and the HTTPRoute
BROKEN_SELF_HOSTED = [
    pytest.param(
        "components/strimzi-kafka/kafka.yaml",
        "          type: scram-sha-512",
        "          type: scram-sha-256",
        "kafka-kafka.strimzi.io-v1.json",
        id="kafka-listener-authentication",
    ),
    pytest.param(
        "components/strimzi-kafka/kafka.yaml",
        "    - broker\n",
        "    - brokers\n",
        "kafkanodepool-kafka.strimzi.io-v1.json",
        id="node-pool-role",
    ),
    pytest.param(
        "overlays/self-hosted/site.yaml",
        "KAFKA_BOOTSTRAP: wagate-kafka-bootstrap:9093",
        "KAFKA_BOOTSTRAP: wagate-kafka-bootstrap:9092",
        "connects to port 9092, where no listener of wagate is",
        id="bootstrap-without-a-listener",
    ),
    pytest.param(
        "components/strimzi-kafka/kafka.yaml",
        "        tls: true\n",
        "        tls: false\n",
        "listener tls (port 9093) is not tls with scram-sha-512",
        id="listener-without-tls",
    ),
    pytest.param(
        "overlays/self-hosted/site.yaml",
        "KAFKA_BOOTSTRAP: wagate-kafka-bootstrap:9093",
        "KAFKA_BOOTSTRAP: kafka-kafka-bootstrap:9093",
        "not this cluster's wagate-kafka-bootstrap",
        id="bootstrap-of-another-cluster",
    ),
    pytest.param(
        "components/gateway-api/httproute.yaml",
        "type: Exact",
        "type: Exactly",
        "httproute-gateway.networking.k8s.io-v1.json",
        id="httproute-path-type",
    ),
    pytest.param(
        "overlays/self-hosted/site.yaml",
        "WEBHOOK_HOST: wagate.example.com",
        "WEBHOOK_HOST: https://wagate.example.com",
        "httproute-gateway.networking.k8s.io-v1.json",
        id="httproute-hostname",
    ),
    pytest.param(
        "overlays/self-hosted/site.yaml",
        "SEALING_SECRET: wagate-sealing",
        "SEALING_SECRET: wagate-db-superuser",
        "reads key keys of Secret wagate-db-superuser, but CloudNativePG (Cluster wagate-db)",
        id="secret-named-like-a-cloudnative-pg-one",
    ),
]


@pytest.mark.parametrize(
    ("overlay", "file", "old", "new", "message"),
    [
        *[pytest.param("prod", *case.values, id=case.id) for case in BROKEN_PROD],
        *[pytest.param("self-hosted", *case.values, id=case.id) for case in BROKEN_SELF_HOSTED],
    ],
)
def test_broken_manifest_fails(
    tools: None, tmp_path: Path, overlay: str, file: str, old: str, new: str, message: str
) -> None:
    result = deploy_check(broken_copy(tmp_path, file, old, new), overlays=overlay)
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
