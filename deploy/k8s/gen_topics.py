"""Writes the Strimzi KafkaTopic manifests from the topic registry (shared/topics.py).

`python deploy/k8s/gen_topics.py` rewrites components/kafka-topics/topics.yaml;
`--check` exits 1 with a diff when the checked-in file differs from the registry.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from shared.topics import ALL_TOPICS, TopicSpec  # noqa: E402

OUTPUT = ROOT / "deploy/k8s/components/kafka-topics/topics.yaml"
CLUSTER = "wagate"
REPLICAS = 3
MIN_IN_SYNC = 2
HEADER = """\
# GENERATED from shared/topics.py by `make deploy-topics`: do not edit; change the registry.
# Replication 3 with min.insync.replicas 2 matches the producers' acks=all (one broker may be
# down); overlays/dev lowers both to 1.
"""


def resource_name(topic: str) -> str:
    """A Kubernetes name for a topic; spec.topicName keeps the real one."""
    return re.sub(r"[^a-z0-9.-]", "-", topic.lower())


def manifest(spec: TopicSpec) -> str:
    lines = [
        "apiVersion: kafka.strimzi.io/v1",
        "kind: KafkaTopic",
        "metadata:",
        f"  name: {resource_name(spec.name)}",
        "  labels:",
        f"    strimzi.io/cluster: {CLUSTER}",
    ]
    if spec.doc:
        lines.insert(0, f"# {spec.doc} Key: {spec.key}.")
    lines += [
        "spec:",
        f"  topicName: {spec.name}",
        f"  partitions: {spec.partitions}",
        f"  replicas: {REPLICAS}",
        "  config:",
    ]
    config = {**spec.config, "min.insync.replicas": str(MIN_IN_SYNC)}
    lines += [f'    {key}: "{value}"' for key, value in sorted(config.items())]
    return "\n".join(lines) + "\n"


def render(specs: Iterable[TopicSpec]) -> str:
    return HEADER + "---\n".join(manifest(spec) for spec in specs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    expected = render(ALL_TOPICS)
    if not args.check:
        args.output.write_text(expected)
        print(f"wrote {len(ALL_TOPICS)} topics to {args.output}")
        return 0
    actual = args.output.read_text() if args.output.exists() else ""
    if actual == expected:
        print(f"topics: {args.output.name} matches shared/topics.py ({len(ALL_TOPICS)} topics)")
        return 0
    diff = difflib.unified_diff(
        actual.splitlines(keepends=True),
        expected.splitlines(keepends=True),
        fromfile=f"{args.output} (checked in)",
        tofile="generated from shared/topics.py",
    )
    sys.stdout.writelines(diff)
    print(
        "\ntopics: the KafkaTopic manifests differ from shared/topics.py; "
        "run `make deploy-topics` and commit the result",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
