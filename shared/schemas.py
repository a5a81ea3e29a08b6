"""The published contract, generated from the event models: one JSON Schema per topic's event
under docs/schemas/ and an AsyncAPI 3 document for the whole bus.

`python -m shared.schemas` writes them; `python -m shared.schemas --check` fails when the
checked-in files differ from the models (CI runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from shared.topics import ALL_TOPICS, TopicSpec

DOCS = Path(__file__).resolve().parent.parent / "docs"
# Topics business systems write to; every other topic is theirs to read.
INPUTS = frozenset({"wagate.intents.v1", "wagate.consent.v1"})


def schema_file(spec: TopicSpec) -> str:
    return f"{spec.name}.schema.json"


def json_schema(spec: TopicSpec) -> dict[str, Any]:
    assert spec.model is not None
    schema = spec.model.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://wagate.dev/schemas/{schema_file(spec)}",
        **schema,
        "x-topic": spec.name,
        "x-key": spec.key,
    }


def _channel_id(spec: TopicSpec) -> str:
    return spec.name.removeprefix("wagate.").replace(".", "_")


def asyncapi() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in ALL_TOPICS:
        if spec.model is None:
            continue
        cid, name = _channel_id(spec), spec.model.__name__
        messages[name] = {
            "name": name,
            "contentType": "application/json",
            "payload": {"$ref": f"schemas/{schema_file(spec)}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": spec.key}}},
        }
        channels[cid] = {
            "address": spec.name,
            "description": spec.doc,
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
            "bindings": {
                "kafka": {
                    "partitions": spec.partitions,
                    "topicConfiguration": {
                        "cleanup.policy": ["compact" if spec.compacted else "delete"],
                        "retention.ms": spec.retention_ms,
                    },
                }
            },
        }
        action = "send" if spec.name in INPUTS else "receive"
        operations[f"{action}_{cid}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{cid}"},
            "summary": f"Business systems {action} {name} events.",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "wagate event bus",
            "version": "1.0.0",
            "description": "Topics a business system produces to and consumes from. Keys "
            "order events per entity; consumers ignore fields they do not know.",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "localhost:9092", "protocol": "kafka"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def rendered() -> dict[Path, str]:
    """Every generated file, by path, with its exact content."""
    files = {
        DOCS / "schemas" / schema_file(spec): json.dumps(json_schema(spec), indent=2) + "\n"
        for spec in ALL_TOPICS
        if spec.model is not None
    }
    files[DOCS / "asyncapi.yaml"] = yaml.safe_dump(asyncapi(), sort_keys=False, width=100)
    return files


def stale(files: dict[Path, str]) -> list[str]:
    problems = [str(p) for p, text in files.items() if not p.exists() or p.read_text() != text]
    known = set(files)
    problems += [
        f"{p} (no topic has it)" for p in (DOCS / "schemas").glob("*.json") if p not in known
    ]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the files are stale")
    args = parser.parse_args(argv)
    files = rendered()
    if args.check:
        problems = stale(files)
        for problem in problems:
            print(f"stale: {problem}", file=sys.stderr)
        if problems:
            print("the contract differs from the models: run `make schemas`", file=sys.stderr)
        return 1 if problems else 0
    (DOCS / "schemas").mkdir(parents=True, exist_ok=True)
    for old in (DOCS / "schemas").glob("*.json"):
        if old not in files:
            old.unlink()
    for path, text in files.items():
        path.write_text(text)
    print(f"wrote {len(files)} files under {DOCS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
