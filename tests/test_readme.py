"""What the README and the deploy guide say holds: the topic table lists the registry, the flow
diagram draws only what each service's Kafka user may read or write, every Graph API version
they name is the one the services call, the sealing-key command works, the starter templates
are where they say."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from pydantic import SecretStr

from shared.sealing import Sealer
from shared.settings import GRAPH_API_VERSION
from shared.topics import ALL_TOPICS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
DEPLOY = (ROOT / "deploy/README.md").read_text()
SERVICES = ("ingest", "policy", "dispatch", "templates", "console")


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def test_the_topic_table_lists_every_topic_of_the_registry() -> None:
    table = section(README, "### Topics")
    listed = re.findall(r"^\| `(wagate\.[a-z.]+\.v\d+)` \|", table, re.M)
    assert len(listed) == len(set(listed)), "a topic is listed twice"
    assert set(listed) == {spec.name for spec in ALL_TOPICS}


def diagram() -> str:
    match = re.search(r"```mermaid\n(.*?)```", section(README, "## How it fits together"), re.S)
    assert match, "no Mermaid diagram under 'How it fits together'"
    return match[1]


def nodes_and_edges() -> tuple[dict[str, str], set[tuple[str, str]]]:
    text = diagram()
    topics = dict(re.findall(r"^\s*(\w+)\[\(\"([^\"]+)\"\)\]\s*$", text, re.M))
    edges = set(re.findall(r"^\s*(\w+)\s+(?:--\s+\"[^\"]*\"\s+)?-->\s+(\w+)\s*$", text, re.M))
    return topics, edges


def acl() -> dict[str, set[tuple[str, str]]]:
    """service -> {(topic, "Read"|"Write")} from the literal topic ACLs of the KafkaUser
    labelled with it (the console's user is not named after it: see users.yaml)."""
    users = (ROOT / "deploy/k8s/components/kafka-users/users.yaml").read_text()
    allowed: dict[str, set[tuple[str, str]]] = {}
    for user in yaml.safe_load_all(users):
        service = user["metadata"]["labels"]["app.kubernetes.io/name"]
        for rule in user["spec"]["authorization"]["acls"]:
            resource = rule["resource"]
            if resource["type"] == "topic" and resource.get("patternType") == "literal":
                for op in rule["operations"]:
                    allowed.setdefault(service, set()).add((resource["name"], op))
    return allowed


def test_the_diagram_draws_every_service_and_topic() -> None:
    topics, edges = nodes_and_edges()
    assert set(topics.values()) == {spec.name for spec in ALL_TOPICS}
    drawn = {end for edge in edges for end in edge}
    assert set(SERVICES) <= drawn
    assert drawn <= set(topics) | set(SERVICES) | {"meta", "biz"}, drawn


def test_every_arrow_between_a_service_and_a_topic_is_one_its_kafka_user_may_use() -> None:
    topics, edges = nodes_and_edges()
    allowed = acl()
    checked = 0
    for source, target in edges:
        if source in SERVICES and target in topics:
            assert (topics[target], "Write") in allowed[source], (source, topics[target])
            checked += 1
        elif source in topics and target in SERVICES:
            assert (topics[source], "Read") in allowed[target], (topics[source], target)
            checked += 1
    assert checked >= 20


def test_every_graph_api_version_named_is_the_one_the_services_call() -> None:
    documents = {
        "README.md": README,
        "deploy/README.md": DEPLOY,
        "docs/contract.md": (ROOT / "docs/contract.md").read_text(),
        **{
            str(p.relative_to(ROOT)): p.read_text()
            for p in sorted((ROOT / "services").glob("*/README.md"))
        },
    }
    for name, text in documents.items():
        for line in text.splitlines():
            # the sandbox's README compares what older versions returned: not a version to call
            if re.search(r"v\d+\.0 and older|v\d+\.0\+", line):
                continue
            for version in re.findall(r"\bv\d{2}\.0\b(?![.\d])", line):
                assert version == GRAPH_API_VERSION, f"{name}: {line.strip()}"
    manifests = "\n".join(p.read_text() for p in (ROOT / "deploy/k8s").rglob("*.yaml"))
    pinned = re.findall(r"_CLOUD_API__VERSION: \"?(v[\d.]+)", manifests)
    assert set(pinned) <= {GRAPH_API_VERSION}


def test_the_sealing_key_command_of_the_deploy_guide_makes_a_key() -> None:
    (code,) = re.findall(r"\.venv/bin/python -c '([^']+)'", DEPLOY)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    key = result.stdout.strip()
    sealer = Sealer([SecretStr(key)])
    assert sealer.unseal(sealer.seal({"code": "739201"})) == {"code": "739201"}


@pytest.mark.parametrize("path", ["services/templates/starter", "examples/templates"])
def test_the_starter_templates_are_where_the_readme_says(path: str) -> None:
    assert f"`{path}/`" in README
    assert sorted(p.name for p in (ROOT / path).glob("*.json")), path
    assert (ROOT / "examples/templates").resolve() == (ROOT / "services/templates/starter")


def test_ci_runs_the_readme_test_command_and_the_steps_the_readme_names() -> None:
    ci = (ROOT / ".ci/run").read_text()
    called = re.findall(r"^make ([a-z-]+)", ci, re.M)
    (named,) = re.findall(r"`\.ci/run` \(([^)]*)\)", README)
    assert re.findall(r"`make ([a-z-]+)`", named) == called
    commands = re.findall(r"^make ([a-z-]+) ", section(README, "# wagate"), re.M)
    assert "test" in commands and "test" in called
