"""Pure reading of what a template's state did to intents: each intent policy refused or Meta
failed because the template was paused, disabled, rejected or unknown, with the state change
in force when it happened (its cause)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.events.reasons import Reason

Row = Mapping[str, Any]

TEMPLATE_REASONS = frozenset({
    Reason.TEMPLATE_PAUSED, Reason.TEMPLATE_NOT_APPROVED, Reason.TEMPLATE_UNKNOWN,
    "132001",  # Meta: the template does not exist (or is not approved) in that language
    "132015",  # Meta: the template is paused
    "132016",  # Meta: the template is disabled
})  # fmt: skip
"""Reasons that say a template's state stopped an intent (wagate's codes and Meta's)."""


@dataclass(frozen=True)
class Affected:
    intent_id: str
    at: datetime
    by: str  # "policy" | "meta"
    outcome: str  # the decision's outcome or the delivery state
    reasons: tuple[str, ...]
    cause: Row | None  # the state change in force then (None: none the console has)


def stopped(row: Row) -> bool:
    return not TEMPLATE_REASONS.isdisjoint(row.get("reasons") or ())


def cause_of(history: Sequence[Row], at: datetime) -> Row | None:
    """The latest state change at or before `at`."""
    before = [h for h in history if h["occurred_at"] <= at]
    return max(before, key=lambda h: (h["occurred_at"], h["version"])) if before else None


def affected(history: Sequence[Row], outcomes: Sequence[Row]) -> list[Affected]:
    """Each intent the template's state stopped, once (its first such decision or update),
    newest first. `outcomes` are decisions (`outcome`) and delivery updates (`state`) of
    intents that named the template; those without a template reason are not counted."""
    first: dict[str, Row] = {}
    for row in sorted(outcomes, key=lambda r: r["occurred_at"]):
        if stopped(row) and row["intent_id"] not in first:
            first[row["intent_id"]] = row
    found = [
        Affected(
            intent_id,
            row["occurred_at"],
            "policy" if row["kind"] == "decision" else "meta",
            str(row["outcome"]),
            tuple(r for r in row["reasons"] if r in TEMPLATE_REASONS),
            cause_of(history, row["occurred_at"]),
        )
        for intent_id, row in first.items()
    ]
    return sorted(found, key=lambda a: a.at, reverse=True)


def per_change(found: Sequence[Affected]) -> dict[str, int]:
    """How many intents each state change (by event id) stopped."""
    counts: dict[str, int] = {}
    for a in found:
        if a.cause is not None:
            key = str(a.cause["event_id"])
            counts[key] = counts.get(key, 0) + 1
    return counts
