"""`wagate spend`: what Meta's statuses priced, added up by dispatch per business number,
template, category and pricing type (`GET /spend`): messages priced, delivered, and charged
(delivered with `type` regular: Meta bills delivered messages only), with totals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import click

from cli.output import EXIT_FAILED, EXIT_USAGE, fail, request_json, run_http, show
from cli.params import Url

COLUMNS = ("phone_number_id", "template", "category", "type", "messages", "delivered", "charged")
COUNTS = ("messages", "delivered", "charged")


def _time(_: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A day (`2026-12-01`, midnight UTC) or a time with an offset, as ISO 8601."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC).isoformat()
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"not a day or ISO 8601 time: {value!r}", param=param) from exc
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()


@click.command("spend")
@click.option("--since", callback=_time, help="From this day or time (UTC unless it says).")
@click.option("--until", callback=_time, help="Before this day or time (UTC unless it says).")
@click.option(
    "--dispatch-url",
    "url",
    type=Url(),
    envvar="WAGATE_DISPATCH_URL",
    default="http://127.0.0.1:8084",
    show_default=True,
    help="Dispatch's HTTP address (env WAGATE_DISPATCH_URL).",
)
def spend(since: str | None, until: str | None, url: str) -> None:
    """What Meta charged, from its statuses' pricing: per number, template, category, type."""
    url = url.rstrip("/")
    query = {k: v for k, v in (("since", since), ("until", until)) if v is not None}
    status, answer = run_http(request_json("GET", f"{url}/spend", query=query), "dispatch", url)
    if status != 200 or not isinstance(answer, dict):
        why = answer.get("error") if isinstance(answer, dict) else answer
        fail(f"dispatch refused ({status}): {why}", EXIT_USAGE if status == 400 else EXIT_FAILED)
    rows = [r for r in answer.get("rows", []) if isinstance(r, dict)]
    totals = {name: sum(int(r.get(name) or 0) for r in rows) for name in COUNTS}
    summary = {
        "since": answer.get("since"),
        "until": answer.get("until"),
        **totals,
        "rows": [{c: r.get(c) for c in COLUMNS} for r in rows],
    }
    show(summary, columns=COLUMNS)
