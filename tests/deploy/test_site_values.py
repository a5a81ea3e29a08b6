"""Each overlay's site values live in its site.yaml alone and reach every manifest that needs them
(Kafka bootstrap and cluster, WABA ids, secrets' names, monitoring labels); the settings check
holds Deployments and migration Jobs to their services' settings; deploy/README.md creates
exactly the secrets prod names."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import K8S, ROOT, TOOLS
from tests.deploy.test_deploy_check import OVERLAYS

Doc = dict[str, Any]
CREATED_SECRETS = (
    "META_SECRET",
    "POSTGRES_SECRET",
    "TEMPLATES_API_SECRET",
    "SEALING_SECRET",
    "CONSOLE_SECRET",
)
MIGRATING = sorted(p.parent.name for p in (ROOT / "services").glob("*/migrations"))


def site(overlay: str) -> dict[str, str]:
    data: dict[str, str] = yaml.safe_load((K8S / "overlays" / overlay / "site.yaml").read_text())[
        "data"
    ]
    return data


def render(k8s: Path, overlay: str) -> list[Doc]:
    result = subprocess.run(
        [str(TOOLS / "bin/kustomize"), "build", str(k8s / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def env_of(doc: Doc) -> list[Doc]:
    return [e for c in doc["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])]


def load_check_config() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_config", K8S / "check_config.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bootstrap_and_cluster_are_written_only_in_site_files() -> None:
    sources = [p for p in K8S.rglob("*.yaml") if p.name != "site.yaml"]
    for path in sources:
        text = path.read_text()
        assert not re.search(r"kafka-bootstrap:\d", text), f"{path}: a Kafka address"
        assert not re.search(r"strimzi\.io/cluster: [a-z]", text), f"{path}: a cluster label"
    for overlay in OVERLAYS:
        values = site(overlay)
        assert values["KAFKA_BOOTSTRAP"] and values["KAFKA_CLUSTER"], overlay


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_site_values_reach_every_manifest(tools: None, overlay: str) -> None:
    values, docs = site(overlay), render(K8S, overlay)
    assert not [d for d in docs if d["metadata"]["name"] == "wagate-site"], "site values applied"
    bootstraps = {
        v for d in of_kind(docs, "ConfigMap") for k, v in d["data"].items() if "BOOTSTRAP" in k
    }
    assert bootstraps == {values["KAFKA_BOOTSTRAP"]}
    strimzi = [d for d in docs if d["apiVersion"].startswith("kafka.strimzi.io/")]
    labels = {d["metadata"].get("labels", {}).get("strimzi.io/cluster") for d in strimzi}
    assert labels == {values["KAFKA_CLUSTER"]}
    assert {d["metadata"]["name"] for d in strimzi if d["kind"] == "Kafka"} <= labels
    (policy,) = [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "policy-config"]
    assert policy["data"]["POLICY_DEFAULT_WABA_ID"] == values["DEFAULT_WABA_ID"]
    assert json.loads(policy["data"]["POLICY_WABA_IDS"]) == json.loads(values["WABA_IDS"])
    generated = {d["metadata"]["name"] for d in of_kind(docs, "Secret")}
    named = {values[key] for key in CREATED_SECRETS}
    for workload in [*of_kind(docs, "Deployment"), *of_kind(docs, "Job")]:
        for item in env_of(workload):
            ref = (item.get("valueFrom") or {}).get("secretKeyRef")
            if ref and ref["key"] in ("uri", "app-secrets", "api-keys", "keys", "access-token"):
                # dev's secrets are generated, their names suffixed with a hash
                assert ref["name"] in named or ref["name"] in generated, (workload, ref)
    (console,) = [d for d in of_kind(docs, "Deployment") if d["metadata"]["name"] == "console"]
    (tokens,) = [v for v in console["spec"]["template"]["spec"]["volumes"] if v["name"] == "tokens"]
    name = tokens["secret"]["secretName"]
    assert name in named or (name in generated and name.startswith(values["CONSOLE_SECRET"]))
    (config,) = [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "console-config"]
    assert config["data"]["CONSOLE_TOKENS_FILE"].endswith(
        "/" + tokens["secret"]["items"][0]["path"]
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_with_migrations_has_a_job(tools: None, overlay: str) -> None:
    jobs = {d["metadata"]["name"]: d for d in of_kind(render(K8S, overlay), "Job")}
    assert sorted(jobs) == [f"{s}-migrate" for s in MIGRATING]
    for service in MIGRATING:
        container = jobs[f"{service}-migrate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"] == ["python", "-m", f"services.{service}", "migrate"]
        assert ":" in container["image"]


def test_monitoring_carries_the_release_label_of_the_site(tools: None, tmp_path: Path) -> None:
    copy = tmp_path / "k8s"
    shutil.copytree(K8S, copy)
    path = copy / "overlays/prod/site.yaml"
    text = path.read_text()
    release = f"PROMETHEUS_RELEASE: {site('prod')['PROMETHEUS_RELEASE']}"
    assert release in text
    path.write_text(text.replace(release, "PROMETHEUS_RELEASE: monitoring-stack"))
    docs = render(copy, "prod")
    for kind in ("ServiceMonitor", "PrometheusRule"):
        (monitor,) = of_kind(docs, kind)
        assert monitor["metadata"]["labels"]["release"] == "monitoring-stack"
    (dashboard,) = [d for d in of_kind(docs, "ConfigMap") if "wagate.json" in d.get("data", {})]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"


def test_readme_creates_the_secrets_prod_names() -> None:
    text = (ROOT / "deploy/README.md").read_text()
    created = set(re.findall(r"create secret generic (\S+)", text))
    assert created == {site("prod")[key] for key in CREATED_SECRETS}


def deployment(command: list[str], env: list[Doc]) -> Doc:
    container = {"name": "c", "command": command, "env": env, "ports": []}
    return {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [container]}}}}


def secret(name: str) -> Doc:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ([], "TEMPLATES_POSTGRES__URL is a credential with a development default"),
        ([{"name": "TEMPLATES_POSTGRES__URL", "value": "postgresql://x@db/x"}], "from a Secret"),
        (
            [secret("TEMPLATES_POSTGRES__URL"), {"name": "TEMPLATES_HTTP__PORT", "value": "1"}],
            "TEMPLATES_HTTP__PORT is no setting a migration reads",
        ),
        (
            [
                secret("TEMPLATES_POSTGRES__URL"),
                {"name": "TEMPLATES_POSTGRES__MAX_SIZE", "value": "x"},
            ],
            "does not build the migration settings",
        ),
    ],
)
def test_a_migration_job_reads_its_database_secret_alone(env: list[Doc], message: str) -> None:
    check_config = load_check_config()
    job = {**deployment(["python", "-m", "services.templates", "migrate"], env), "kind": "Job"}
    assert any(message in error for error in check_config.job_errors(job, {}))


def test_a_migration_job_with_its_secret_passes() -> None:
    check_config = load_check_config()
    job = deployment(
        ["python", "-m", "services.ingest", "migrate"], [secret("INGEST_POSTGRES__URL")]
    )
    assert list(check_config.job_errors(job, {})) == []


def test_a_deployment_credential_must_come_from_a_secret() -> None:
    check_config = load_check_config()
    env = [{"name": "TEMPLATES_HTTP__HOST", "value": "0.0.0.0"}]
    errors = list(
        check_config.deployment_errors(deployment(["python", "-m", "services.templates"], env), {})
    )
    assert any("TEMPLATES_API_KEYS is a credential with a development default" in e for e in errors)
