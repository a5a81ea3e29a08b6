"""`wagate topics create|list`: the registry's topics on the broker."""

from __future__ import annotations

import click

from cli.output import echo_json, run_async
from shared.messaging import ensure_topics
from shared.settings import KafkaSettings
from shared.topics import ALL_TOPICS


@click.group()
def topics() -> None:
    """Manage wagate's topics."""


@topics.command("create")
@click.pass_obj
def create(settings: KafkaSettings) -> None:
    """Create every registry topic that does not exist yet."""
    created = run_async(ensure_topics(settings, ALL_TOPICS))
    for name in created:
        click.echo(f"created {name}")
    click.echo(f"{len(ALL_TOPICS) - len(created)} already existed, {len(created)} created")


@topics.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per topic.")
def list_topics(as_json: bool) -> None:
    """The registry: name, partitions, cleanup policy, key."""
    for spec in ALL_TOPICS:
        if as_json:
            echo_json(
                {
                    "name": spec.name,
                    "partitions": spec.partitions,
                    "compacted": spec.compacted,
                    "retention_ms": spec.retention_ms,
                    "key": spec.key,
                    "doc": spec.doc,
                }
            )
            continue
        cleanup = "compact" if spec.compacted else "delete"
        click.echo(f"{spec.name}\t{spec.partitions}\t{cleanup}\t{spec.key}\t{spec.doc}")
