"""Dispatch's read-only HTTP views beyond the base app: `GET /spend`, what Meta's statuses
priced, added up per business number, template, category and type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiohttp import web

from services.dispatch.charges import ChargeBook

Handler = Callable[[web.Request], Awaitable[web.Response]]


class BadQuery(ValueError):
    """A query parameter that is no time with a UTC offset."""


def _when(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadQuery(f"{name} must be an ISO 8601 time: {raw[:40]!r}") from exc
    if at.tzinfo is None:
        raise BadQuery(f"{name} needs a UTC offset (e.g. 2026-12-01T00:00:00Z)")
    return at


def spend_handler(book: ChargeBook) -> Handler:
    """`GET /spend?since=&until=` (ISO 8601, by when Meta first priced each message): rows of
    `phone_number_id`, `template`, `category`, `type`, `messages` (priced by a status),
    `delivered`, `charged` (delivered and billed: `type` regular)."""

    async def spend(request: web.Request) -> web.Response:
        try:
            since, until = _when(request, "since"), _when(request, "until")
        except BadQuery as exc:
            return web.json_response({"error": str(exc)}, status=400)
        rows = await book.spend(since, until)
        return web.json_response(
            {
                "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "rows": rows,
            }
        )

    return spend
