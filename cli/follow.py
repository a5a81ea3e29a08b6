"""How `wagate send --wait` shows a followed intent, and what it exits with: each delivery
update as it arrives (a JSON line, or `time  state  wamid  why` for a person)."""

from __future__ import annotations

import click

from cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PENDING,
    EXIT_REFUSED,
    as_json,
    cell,
    echo_json,
)
from shared.events.delivery import DeliveryUpdated

DONE = frozenset({"accepted", "sent", "delivered", "read", "played"})
"""States in which the Cloud API has taken the message."""
UPDATE_FIELDS = {"intent_id", "state", "wamid", "reasons", "detail", "errors"}


def outcome(last: DeliveryUpdated | None) -> int:
    """The exit code of a followed intent, from the last update seen within --wait."""
    if last is None or last.state not in {*DONE, "rejected", "failed", "expired"}:
        return EXIT_PENDING  # nothing yet, `held`, or `unknown`
    if last.state == "rejected":
        return EXIT_REFUSED
    return EXIT_OK if last.state in DONE else EXIT_FAILED


def print_intent(intent_id: str) -> None:
    if as_json():
        echo_json({"intent_id": intent_id})
    else:
        click.echo(f"intent {cell(intent_id, limit=None)}")


def print_update(update: DeliveryUpdated) -> None:
    """One delivery update: a JSON line, or for a person `time  state  wamid  why`."""
    if as_json():
        echo_json(update.model_dump(mode="json", include=UPDATE_FIELDS))
    else:
        click.echo(update_line(update))


def update_line(update: DeliveryUpdated) -> str:
    """`09:31:02  delivered  wamid...`, then the reasons, Meta's errors and the detail."""
    parts = [update.occurred_at.strftime("%H:%M:%S"), update.state.ljust(9), update.wamid or "-"]
    if update.reasons:
        parts.append(" ".join(update.reasons))
    parts += [" ".join(str(x) for x in (e.code, e.title) if x) for e in update.errors]
    if update.detail:
        parts.append(update.detail)
    return cell("  ".join(parts), limit=None)
