"""`wagate deadletter list | show | redrive`: read the dead-letter topic, and put a dead letter
back on its source topic with its key and headers, never twice without saying so (the rules:
`shared.deadletters`, the console's too)."""

from __future__ import annotations

import getpass
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import click

from cli import letters, redrive
from cli.config import pass_kafka
from cli.output import EXIT_FAILED, run_async, show, show_rows
from cli.params import Instant
from cli.tail_cmd import decoded, headers_of, resolve
from shared import deadletters
from shared.deadletters import RedriveRefused, Search
from shared.messaging import make_producer
from shared.settings import KafkaSettings

T = TypeVar("T")
COLUMNS = ("id", "written_at", "source_topic", "consumer_group", "reason", "state")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run Kafka work; a dead letter or topic that is not there exits 1."""
    try:
        return run_async(coro)
    except (RedriveRefused, LookupError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from exc


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (a container)
        return "unknown"


async def _listed(
    settings: KafkaSettings, since: datetime | None, with_state: bool
) -> list[dict[str, Any]]:
    read = await letters.read_letters(settings, since)
    found = await letters.search(settings, read, None) if with_state else {}
    rows = []
    for letter in read:
        row: dict[str, Any] = letter.summary()
        search = found.get(letter.ref)
        row["state"] = search.state if search else ("unknown" if with_state else None)
        rows.append(row)
    return rows


@click.group()
def deadletter() -> None:
    """Dead letters: list them, show one, redrive them to their source topics."""


@deadletter.command("list")
@click.option("--source", help="Only those from this topic (a full name or e.g. intents).")
@click.option("--group", "consumer_group", help="Only those this consumer group gave up on.")
@click.option("--since", type=Instant(), help="Only those written since (ISO 8601, UTC default).")
@click.option(
    "--no-state",
    is_flag=True,
    help="Do not search the source topics for redriven copies (faster; state left empty).",
)
@pass_kafka
def list_letters(
    settings: KafkaSettings,
    source: str | None,
    consumer_group: str | None,
    since: datetime | None,
    no_state: bool,
) -> None:
    """Every dead letter, oldest first per partition, with whether it was redriven."""
    wanted = settings.topic(resolve(source)) if source else None
    rows = _run(_listed(settings, since, not no_state))
    rows = [
        r
        for r in rows
        if (wanted is None or r["source_topic"] == wanted)
        and (consumer_group is None or r["consumer_group"] == consumer_group)
    ]
    show_rows(rows, COLUMNS)


def _letter_id(_: click.Context, param: click.Parameter, value: Any) -> Any:
    try:
        if isinstance(value, tuple):
            return tuple(redrive.parse_id(v) for v in value)
        return redrive.parse_id(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param=param) from exc


async def _shown(settings: KafkaSettings, partition: int, offset: int) -> dict[str, Any]:
    letter = await letters.read_letter(settings, partition, offset)
    search = (await letters.search(settings, [letter], None)).get(letter.ref)
    return {
        **letter.summary(),
        "state": search.state if search else "unknown",
        "redriven_to": [f"{p}:{o}" for p, o in search.copies] if search else [],
        "headers": headers_of(letter.headers),
        "value": decoded(letter.value),
    }


@deadletter.command("show")
@click.argument("letter_id", metavar="PARTITION:OFFSET", callback=_letter_id)
@pass_kafka
def show_letter(settings: KafkaSettings, letter_id: tuple[int, int]) -> None:
    """One dead letter: why, from where, its headers and value, and where it was redriven."""
    show(_run(_shown(settings, *letter_id)))


async def _redrive_one(
    settings: KafkaSettings, letter_id: tuple[int, int], options: dict[str, Any]
) -> dict[str, Any]:
    letter = await letters.read_letter(settings, *letter_id)
    topic, partition = deadletters.redrive_target(settings, letter, options["to"])
    search = (await letters.search(settings, [letter], options["to"])).get(letter.ref)
    if search is None:
        raise RedriveRefused(f"topic {topic} does not exist")
    why = deadletters.refusal(letter, search, options["again"])
    if why:
        raise RedriveRefused(why)
    at = datetime.now(UTC)
    row: dict[str, Any] = {
        "id": letter.id,
        "topic": topic,
        "by": options["by"],
        "at": at.isoformat(),
    }
    if options["dry_run"]:
        return {**row, "redriven": False, "dry_run": True, "partition": partition}
    producer = make_producer(settings, "redrive")
    try:
        await producer.start()
        _, sent = await deadletters.redrive(
            producer, settings, letter, options["by"], at, options["to"]
        )
    finally:
        await producer.stop()
    row.update(redriven=True, partition=sent.partition, offset=sent.offset)
    after = (await letters.search(settings, [letter], options["to"])).get(letter.ref, Search())
    earlier = deadletters.earlier_copies(after, (sent.partition, sent.offset))
    if earlier and not options["again"]:
        row["error"] = f"another redrive of {letter.id} landed first at " + ", ".join(
            f"{p}:{o}" for p, o in earlier
        )
    return row


@deadletter.command("redrive")
@click.argument(
    "letter_ids", metavar="PARTITION:OFFSET...", nargs=-1, required=True, callback=_letter_id
)
@click.option("--to", "to_topic", help="Redrive to this topic instead of the source topic.")
@click.option(
    "--by", default=_operator, help="Who redrives (a header on the record; default: you)."
)
@click.option("--again", is_flag=True, help="Redrive even if it was redriven, or cannot be told.")
@click.option("--dry-run", is_flag=True, help="Check and say what would be done; produce nothing.")
@pass_kafka
def redrive_letters(
    settings: KafkaSettings,
    letter_ids: tuple[tuple[int, int], ...],
    to_topic: str | None,
    by: str,
    again: bool,
    dry_run: bool,
) -> None:
    """Produce each dead letter again to its source topic and partition, with its key and
    original headers plus wagate-redrive-of, -redriven-by and -redriven-at; one already
    redriven is refused (exit 1) unless --again."""
    options = {
        "to": settings.topic(resolve(to_topic)) if to_topic else None,
        "by": by,
        "again": again,
        "dry_run": dry_run,
    }
    rows = []
    for letter_id in letter_ids:
        try:
            rows.append(run_async(_redrive_one(settings, letter_id, options)))
        except (RedriveRefused, LookupError) as exc:
            failed = {"redriven": False, "error": str(exc).strip("'\"")}
            rows.append({"id": "{}:{}".format(*letter_id), **failed})
    show_rows(rows, ("id", "redriven", "topic", "partition", "offset", "by", "error"))
    if any(row.get("error") for row in rows):
        raise SystemExit(EXIT_FAILED)
