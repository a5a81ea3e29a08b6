"""`wagate topics create|list`: the registry's topics on the broker."""

from __future__ import annotations

import click

from cli.config import pass_kafka
from cli.output import MODE_KEY, as_json, echo_json, run_async, table
from shared.messaging import ensure_topics
from shared.settings import KafkaSettings
from shared.topics import ALL_TOPICS


@click.group()
def topics() -> None:
    """Manage wagate's topics."""


@topics.command("create")
@pass_kafka
def create(settings: KafkaSettings) -> None:
    """Create every registry topic that does not exist yet."""
    created = run_async(ensure_topics(settings, ALL_TOPICS))
    existed = len(ALL_TOPICS) - len(created)
    if click.get_current_context().meta.get(MODE_KEY) == "json":
        echo_json({"created": created, "existed": existed})
        return
    for name in created:
        click.echo(f"created {name}")
    click.echo(f"{existed} already existed, {len(created)} created")


@topics.command("list")
@click.option("--json", "as_json_lines", is_flag=True, help="One JSON object per topic.")
@click.pass_context
def list_topics(ctx: click.Context, as_json_lines: bool) -> None:
    """The registry: name, partitions, cleanup policy, key (tab-separated off a terminal)."""
    rows = [
        {
            "name": spec.name,
            "partitions": spec.partitions,
            "compacted": spec.compacted,
            "retention_ms": spec.retention_ms,
            "key": spec.key,
            "doc": spec.doc,
        }
        for spec in ALL_TOPICS
    ]
    if as_json_lines or ctx.meta.get(MODE_KEY) == "json":
        for row in rows:
            echo_json(row)
    elif as_json():  # not a terminal: the tab-separated lines scripts already read
        for spec in ALL_TOPICS:
            cleanup = "compact" if spec.compacted else "delete"
            click.echo(f"{spec.name}\t{spec.partitions}\t{cleanup}\t{spec.key}\t{spec.doc}")
    else:
        for line in table(rows, ["name", "partitions", "compacted", "key", "doc"]):
            click.echo(line)
