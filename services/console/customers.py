"""Pure reading of a customer's facts: whether each window is open now, and the consent on
record per business number and category."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class WindowStatus:
    number: str
    open: bool
    words: str
    opened_by: str


def window_status(row: Row, now: datetime) -> WindowStatus:
    """A window is open while its last change is not `closed` and it has not expired."""
    expires: datetime = row["expires_at"]
    is_open = row["change"] != "closed" and now < expires
    if is_open:
        words = f"open until {expires.isoformat(timespec='seconds')}"
    else:
        words = f"closed since {min(expires, row['occurred_at']).isoformat(timespec='seconds')}"
    kind = row.get("opened_by")
    last = row["last_customer_message_at"].isoformat(timespec="seconds")
    opened_by = (
        f"a {kind} message from the customer at {last}"
        if kind
        else (f"the customer's message at {last}")
    )
    return WindowStatus(row["phone_number_id"], is_open, words, opened_by)


@dataclass(frozen=True)
class ConsentNow:
    number: str
    category: str
    opted_in: bool
    source: str
    at: datetime


def current_consent(rows: Sequence[Row]) -> list[ConsentNow]:
    """The latest consent per (business number, category)."""
    latest: dict[tuple[str, str], Row] = {}
    for row in sorted(rows, key=lambda r: r["occurred_at"]):
        latest[(row["phone_number_id"], row["category"])] = row
    return [
        ConsentNow(n, c, bool(r["opted_in"]), str(r["source"]), r["occurred_at"])
        for (n, c), r in sorted(latest.items())
    ]
