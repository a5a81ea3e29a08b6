"""The console deploys like the other services: in every overlay its Deployment, Service and
migration Job; in prod its NetworkPolicy, its scrape, alerts and dashboard panels, and a
KafkaUser of its own whose ACLs follow the code (every topic its read model follows, every
topic a redrive can write back to) and whose name no Secret of the console's takes."""

from __future__ import annotations

from typing import Any

import pytest

from services.console.app import READ
from services.console.settings import ConsoleSettings
from shared.topics import DEAD_LETTERS
from tests.deploy.test_deploy_check import OVERLAYS
from tests.deploy.test_site_values import K8S, of_kind, render, site

Doc = dict[str, Any]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    (doc,) = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    return doc


def topic_acls(user: Doc) -> dict[str, set[str]]:
    """operation -> the literal topics a KafkaUser may use with it."""
    out: dict[str, set[str]] = {}
    for rule in user["spec"]["authorization"]["acls"]:
        resource = rule["resource"]
        if resource["type"] == "topic" and resource.get("patternType") == "literal":
            for op in rule["operations"]:
                out.setdefault(op, set()).add(resource["name"])
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_runs_the_console_and_its_migrations(tools: None, overlay: str) -> None:
    docs = render(K8S, overlay)
    deployment = named(docs, "Deployment", "console")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "services.console"]
    service = named(docs, "Service", "console")
    assert [p["port"] for p in service["spec"]["ports"]] == [ConsoleSettings().http.port]
    job = named(docs, "Job", "console-migrate")
    (migrator,) = job["spec"]["template"]["spec"]["containers"]
    assert migrator["command"] == ["python", "-m", "services.console", "migrate"]
    assert named(docs, "PodDisruptionBudget", "console")


def test_prod_scrapes_alerts_and_fences_the_console(tools: None) -> None:
    docs = render(K8S, "prod")
    service = named(docs, "Service", "console")
    (monitor,) = of_kind(docs, "ServiceMonitor")
    wanted = monitor["spec"]["selector"]["matchLabels"]
    assert wanted.items() <= service["metadata"]["labels"].items()
    (rules,) = of_kind(docs, "PrometheusRule")
    exprs = [r["expr"] for g in rules["spec"]["groups"] for r in g["rules"]]
    assert any("wagate_console_" in e for e in exprs)
    assert any("up{" in e and "console" in e for e in exprs)
    (dashboard,) = [d for d in of_kind(docs, "ConfigMap") if "wagate.json" in d.get("data", {})]
    assert "wagate_console_redrives_total" in dashboard["data"]["wagate.json"]
    policy = named(docs, "NetworkPolicy", "console")
    assert policy["spec"]["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": "console"}
    assert {p["port"] for e in policy["spec"]["egress"] for p in e["ports"]} == {5432}


def test_the_console_kafka_user_follows_the_code(tools: None) -> None:
    docs = render(K8S, "prod")
    users = {
        u["metadata"]["labels"]["app.kubernetes.io/name"]: u for u in of_kind(docs, "KafkaUser")
    }
    console = users["console"]
    assert console["metadata"]["name"] != site("prod")["CONSOLE_SECRET"]
    acls = topic_acls(console)
    assert {spec.name for spec in READ} <= acls["Read"]
    # a redrive writes a record back to where its consumer gave up on it
    dead_lettered = set().union(
        *(
            topic_acls(u).get("Read", set())
            for u in users.values()
            if DEAD_LETTERS.name in topic_acls(u).get("Write", set())
        )
    )
    assert dead_lettered
    assert dead_lettered - {DEAD_LETTERS.name} <= acls["Write"]
    assert DEAD_LETTERS.name not in acls["Write"]
    groups = [
        r["resource"]["name"]
        for r in console["spec"]["authorization"]["acls"]
        if r["resource"]["type"] == "group"
    ]
    assert groups == [ConsoleSettings().group]


def test_every_deployment_authenticates_as_its_own_kafka_user(tools: None) -> None:
    docs = render(K8S, "prod")
    users = {u["metadata"]["name"]: u for u in of_kind(docs, "KafkaUser")}
    for deployment in of_kind(docs, "Deployment"):
        name = deployment["metadata"]["name"]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        prefix = name.upper()
        username = env[f"{prefix}_KAFKA__SASL_USERNAME"]["value"]
        password = env[f"{prefix}_KAFKA__SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert password == {"name": username, "key": "password"}, name
        assert users[username]["metadata"]["labels"]["app.kubernetes.io/name"] == name
