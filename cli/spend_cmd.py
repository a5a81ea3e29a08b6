"""`wagate spend`: what Meta's statuses priced, added up by dispatch per business number,
template, category and pricing type (`GET /spend`): messages priced, delivered, and charged
(delivered with `type` regular: Meta bills delivered messages only), with totals."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import aiohttp
import click

from cli.output import EXIT_FAILED, EXIT_USAGE, fail, run_http, show
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
    status, answer = run_http(_get(f"{url}/spend", query), "dispatch", url)
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


async def _get(url: str, query: dict[str, str]) -> tuple[int, Any]:
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, params=query, timeout=timeout) as resp,
    ):
        raw = await resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode(errors="replace")[:200]
