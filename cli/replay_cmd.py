"""`wagate replay --since .. --until ..`: re-normalise the raw-webhook journal over a time range."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.config import pass_kafka
from cli.output import Progress, run_async, show
from cli.params import Instant
from services.ingest.replay import replay as run_replay
from shared.settings import KafkaSettings


@click.command()
@click.option(
    "--since",
    required=True,
    type=Instant(),
    help="Start (ISO 8601, UTC unless an offset is given).",
)
@click.option("--until", type=Instant(), default=None, help="End, exclusive (default: now).")
@click.option("--dry-run", is_flag=True, help="Count what would be published, publish nothing.")
@pass_kafka
def replay(settings: KafkaSettings, since: datetime, until: datetime | None, dry_run: bool) -> None:
    """Re-normalise journaled webhooks received in [SINCE, UNTIL) and publish their events.

    Events keep their deterministic ids, so consumers drop the ones they already have. A
    progress bar on stderr follows the journal on a terminal.
    """
    end = until or datetime.now(UTC)
    if end <= since:
        raise click.BadParameter("--until must be after --since")
    with Progress("journal") as bar:
        summary = run_async(run_replay(settings, since, end, dry_run=dry_run, progress=bar.at))
    show(
        {
            "since": since.isoformat(),
            "until": end.isoformat(),
            "dry_run": dry_run,
            **summary.as_dict(),
        }
    )
