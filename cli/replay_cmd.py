"""`wagate replay --since .. --until ..`: re-normalise the raw-webhook journal over a time range."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.output import echo_json, run_async
from services.ingest.replay import replay as run_replay
from shared.settings import KafkaSettings


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant; without an offset it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 time: {value!r}") from exc
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@click.command()
@click.option("--since", required=True, help="Start (ISO 8601, UTC unless an offset is given).")
@click.option("--until", default=None, help="End, exclusive (default: now).")
@click.option("--dry-run", is_flag=True, help="Count what would be published, publish nothing.")
@click.pass_obj
def replay(settings: KafkaSettings, since: str, until: str | None, dry_run: bool) -> None:
    """Re-normalise journaled webhooks received in [SINCE, UNTIL) and publish their events.

    Events keep their deterministic ids, so consumers drop the ones they already have.
    """
    start = parse_instant(since)
    end = parse_instant(until) if until else datetime.now(UTC)
    if end <= start:
        raise click.BadParameter("--until must be after --since")
    summary = run_async(run_replay(settings, start, end, dry_run=dry_run))
    echo_json(
        {
            "since": start.isoformat(),
            "until": end.isoformat(),
            "dry_run": dry_run,
            **summary.as_dict(),
        }
    )
