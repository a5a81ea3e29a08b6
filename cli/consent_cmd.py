"""`wagate consent import FILE`: load a business's existing opt-ins (and opt-outs) in bulk onto
the consent topic, from CSV with a header or JSON lines (a progress bar on stderr on a terminal).

Every row is checked before anything is produced: a bad row is named by its line, with what is
wrong, and the command exits 2 having produced nothing. Each row's event id derives from its
content, so importing a file again is harmless.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import click

from cli.output import Progress, echo_json, run_async
from shared.events.consent import ConsentChanged
from shared.events.envelope import deterministic_id
from shared.events.keys import normalize_wa_id
from shared.messaging import Publisher, make_producer
from shared.settings import KafkaSettings
from shared.topics import CONSENT

FIELDS = ("phone_number_id", "waba", "customer", "category", "opted_in", "at", "source")
ALIASES = {"waba_id": "waba"}
CATEGORIES = ("marketing", "utility", "authentication", "all")
TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n"}
FUTURE_SLACK = timedelta(minutes=5)  # the clocks of the file's source and of this machine
BATCH = 500
PRODUCER = "wagate-consent-import"
Format = Literal["auto", "csv", "jsonl"]


class BadRow(ValueError):
    """A row that cannot be imported, with its line number."""

    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]


def read_rows(text: str, kind: Format, name: str) -> list[Row]:
    """The file's rows with their line numbers; a file of neither kind raises BadRow."""
    if kind == "auto":
        kind = _guess(text, name)
    return _jsonl(text) if kind == "jsonl" else _csv(text)


def _guess(text: str, name: str) -> Format:
    suffix = Path(name).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "jsonl" if text.lstrip().startswith("{") else "csv"


def _jsonl(text: str) -> list[Row]:
    rows = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise BadRow(line, f"not JSON: {exc.msg}") from exc
        if not isinstance(value, dict):
            raise BadRow(line, "not a JSON object")
        rows.append(Row(line, value))
    return rows


def _csv(text: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise BadRow(1, f"no header; the columns are {', '.join(FIELDS)}")
    columns = [ALIASES.get(c.strip().lower(), c.strip().lower()) for c in header]
    unknown = [c for c in columns if c not in FIELDS]
    if unknown:
        raise BadRow(1, f"unknown column(s) {unknown}; the columns are {', '.join(FIELDS)}")
    rows = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(columns):
            raise BadRow(line, f"{len(values)} values for {len(columns)} columns")
        rows.append(Row(line, dict(zip(columns, values, strict=True))))
    return rows


def consent_event(row: Row, now: datetime) -> tuple[ConsentChanged, str]:
    """The row as a consent event and its record key; a bad row raises BadRow."""
    values = {ALIASES.get(k, k): v for k, v in row.values.items()}
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise BadRow(row.line, f"unknown field(s) {unknown}")
    number, waba = _text(values, "phone_number_id"), _text(values, "waba")
    if not number and not waba:
        raise BadRow(row.line, "give phone_number_id or waba (the business the consent is for)")
    customer = normalize_wa_id(_text(values, "customer"))
    if not customer:
        raise BadRow(row.line, "customer: a WhatsApp id (the customer's number) is required")
    category = _text(values, "category").lower()
    if category not in CATEGORIES:
        raise BadRow(row.line, f"category {category!r}: one of {', '.join(CATEGORIES)}")
    opted_in = _flag(row.line, values.get("opted_in"))
    at = _instant(row.line, values.get("at"), now)
    source = _text(values, "source")
    if not source:
        raise BadRow(row.line, "source: say how the consent was collected (a form, paper ...)")
    parts = (number, waba, customer, category, str(opted_in), at.isoformat(), source)
    event = ConsentChanged(
        event_id=deterministic_id("consent-import", *parts),
        occurred_at=at,
        producer=PRODUCER,
        customer=customer,
        phone_number_id=number,
        waba_id=waba or None,
        category=category,
        opted_in=opted_in,
        source=source,
    )
    return event, f"{number or waba}:{customer}"


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def _flag(line: int, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if value is not None else ""
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise BadRow(line, f"opted_in {value!r}: true or false")


def _instant(line: int, value: Any, now: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRow(line, f"at {value!r}: an ISO 8601 time, e.g. 2025-06-01T09:00:00Z") from exc
    if at.tzinfo is None:
        raise BadRow(line, f"at {value!r}: give the time zone (Z or +01:00)")
    if at > now + FUTURE_SLACK:
        raise BadRow(line, f"at {value!r} lies in the future")
    return at.astimezone(UTC)


def prepare(rows: list[Row], now: datetime) -> tuple[list[tuple[ConsentChanged, str]], list[str]]:
    """Every row as an event, and every bad row's error (then nothing may be produced)."""
    events, errors = [], []
    for row in rows:
        try:
            events.append(consent_event(row, now))
        except BadRow as exc:
            errors.append(str(exc))
    return events, errors


async def produce(
    settings: KafkaSettings,
    events: list[tuple[ConsentChanged, str]],
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> None:
    """Produce the events in batches, each acknowledged; `progress(done, total)` after each."""
    producer = make_producer(settings, "consent-import")
    try:
        await producer.start()  # inside: a broker that never answers still closes the client
        publisher = Publisher(producer, settings)
        for start in range(0, len(events), BATCH):
            batch = events[start : start + BATCH]
            await publisher.publish_many([(CONSENT, event, key) for event, key in batch])
            progress(start + len(batch), len(events))
    finally:
        await producer.stop()


def summary(path: str, events: list[tuple[ConsentChanged, str]], produced: bool) -> dict[str, Any]:
    return {
        "file": path,
        "rows": len(events),
        "produced": len(events) if produced else 0,
        "opted_in": sum(1 for e, _ in events if e.opted_in),
        "opted_out": sum(1 for e, _ in events if not e.opted_in),
        "by_category": dict(sorted(Counter(str(e.category) for e, _ in events).items())),
        "customers": len({e.customer for e, _ in events}),
    }


@click.group()
def consent() -> None:
    """Customers' consent, as the business records it."""


@consent.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=False))
@click.option(
    "--format",
    "kind",
    type=click.Choice(["auto", "csv", "jsonl"]),
    default="auto",
    show_default=True,
    help="auto: by the file's extension, else by its first character.",
)
@click.option("--dry-run", is_flag=True, help="Check every row and print the summary only.")
@click.pass_obj
def import_file(settings: KafkaSettings, file: str, kind: Format, dry_run: bool) -> None:
    """Load opt-ins and opt-outs from FILE onto the consent topic: CSV with a header, or JSON
    lines; fields phone_number_id (or waba), customer, category (marketing, utility,
    authentication, all), opted_in, at (ISO 8601 with a time zone) and source. Nothing is
    produced unless every row is good (exit 2 names the bad lines)."""
    try:
        text = Path(file).read_text(encoding="utf-8-sig")
        rows = read_rows(text, kind, file)
    except UnicodeDecodeError as exc:
        raise click.UsageError(f"{file} is not UTF-8 text: {exc.reason}") from exc
    except BadRow as exc:
        raise click.UsageError(f"{file}: {exc}") from exc
    events, errors = prepare(rows, datetime.now(UTC))
    if errors:
        shown = errors[:20] + ([f"... and {len(errors) - 20} more"] if len(errors) > 20 else [])
        raise click.UsageError(
            f"{file}: nothing imported, {len(errors)} bad row(s):\n" + "\n".join(shown)
        )
    if not events:
        raise click.UsageError(f"{file}: no rows to import")
    if not dry_run:
        with Progress("rows") as bar:  # on stderr, only on a terminal
            run_async(produce(settings, events, bar.at))
    echo_json(summary(file, events, produced=not dry_run))
