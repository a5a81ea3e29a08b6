"""Writes the Strimzi KafkaTopic manifests from the topic registry (shared/topics.py) and from
policy's own topics (its tables' changelogs, which faust would create with replication 1, and
its rekeyed topic).

`python deploy/k8s/gen_topics.py` rewrites components/kafka-topics/topics.yaml;
`--check` exits 1 with a diff when the checked-in file differs from what the code declares.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.policy import rekeyed  # noqa: E402
from services.policy.settings import PolicySettings  # noqa: E402
from services.policy.tables import TABLES  # noqa: E402
from shared.topics import ALL_TOPICS, TopicSpec  # noqa: E402

OUTPUT = ROOT / "deploy/k8s/components/kafka-topics/topics.yaml"
REPLICAS = 3
MIN_IN_SYNC = 2
HEADER = """\
# GENERATED from shared/topics.py and policy's tables by `make deploy-topics`: do not edit.
# Replication 3 with min.insync.replicas 2 matches the producers' acks=all (one broker may be
# down); overlays/dev lowers both to 1. The strimzi.io/cluster label is the overlay's site value
# KAFKA_CLUSTER (set by ../kafka-topics/kustomization.yaml).
"""


def resource_name(topic: str) -> str:
    """A Kubernetes name for a topic; spec.topicName keeps the real one."""
    return re.sub(r"[^a-z0-9.-]", "-", topic.lower())


def manifest(spec: TopicSpec) -> str:
    config = {**spec.config, "min.insync.replicas": str(MIN_IN_SYNC)}
    return kafka_topic(spec.name, spec.partitions, config, f"{spec.doc} Key: {spec.key}.")


def kafka_topic(name: str, partitions: int, config: dict[str, str], comment: str) -> str:
    lines = [
        f"# {comment}",
        "apiVersion: kafka.strimzi.io/v1",
        "kind: KafkaTopic",
        "metadata:",
        f"  name: {resource_name(name)}",
        "spec:",
        f"  topicName: {name}",
        f"  partitions: {partitions}",
        f"  replicas: {REPLICAS}",
        "  config:",
    ]
    lines += [f'    {key}: "{value}"' for key, value in sorted(config.items())]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Changelog:
    name: str
    partitions: int
    table: str


def policy_changelogs() -> list[Changelog]:
    """The changelog topics of policy's tables, from policy's list of its tables (no faust app
    is built: the list is data)."""
    app_id = PolicySettings().app_id
    return [
        Changelog(table.changelog(app_id), table.partitions, table.name)
        for table in sorted(TABLES, key=lambda table: table.name)
    ]


def changelog_manifest(log: Changelog) -> str:
    config = {"cleanup.policy": "compact", "min.insync.replicas": str(MIN_IN_SYNC)}
    comment = f"Changelog of policy's {log.table} table (compacted: the table's latest values)."
    return kafka_topic(log.name, log.partitions, config, comment)


def render(specs: Iterable[TopicSpec], changelogs: Iterable[Changelog] = ()) -> str:
    docs = [manifest(spec) for spec in specs] + [changelog_manifest(log) for log in changelogs]
    return HEADER + "---\n".join(docs)


def expected() -> str:
    return render([*ALL_TOPICS, rekeyed.topic(PolicySettings().app_id)], policy_changelogs())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    expected_text = expected()
    if not args.check:
        args.output.write_text(expected_text)
        print(f"wrote {expected_text.count('kind: KafkaTopic')} topics to {args.output}")
        return 0
    actual = args.output.read_text() if args.output.exists() else ""
    if actual == expected_text:
        count = expected_text.count("kind: KafkaTopic")
        print(f"topics: {args.output.name} matches the registry and policy's tables ({count})")
        return 0
    diff = difflib.unified_diff(
        actual.splitlines(keepends=True),
        expected_text.splitlines(keepends=True),
        fromfile=f"{args.output} (checked in)",
        tofile="generated from shared/topics.py and policy's tables",
    )
    sys.stdout.writelines(diff)
    print(
        "\ntopics: the KafkaTopic manifests differ from shared/topics.py or policy's tables; "
        "run `make deploy-topics` and commit the result",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
