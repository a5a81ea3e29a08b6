"""Every reason has its sentence, Meta's codes are told by the one table of them, and an
intent's steps and final state come out in the order they happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import pytest

from services.console import timeline
from shared.events.delivery import TERMINAL_STATES, DeliveryState
from shared.events.reasons import Reason

T = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("reason", list(Reason))
def test_every_reason_has_one_sentence_of_its_own(reason: Reason) -> None:
    words = timeline.reason_words(reason.value)
    assert words == timeline.REASON_WORDS[reason.value]
    assert words.endswith(".") and words[0].isupper() and len(words) > 30
    others = {w for r, w in timeline.REASON_WORDS.items() if r != reason.value}
    assert words not in others


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("131047", "Meta answered error 131047: Re-engagement message."),
        ("131050", "Meta answered error 131050: User stopped marketing messages."),
        ("250", "Meta answered error 250: the app lacks a permission."),
        ("999999", "Meta answered error 999999."),
        ("SOMETHING_NEW", "Reason SOMETHING_NEW (not known to this console)."),
    ],
)
def test_meta_codes_and_unknown_reasons_are_told_plainly(code: str, words: str) -> None:
    assert timeline.reason_words(code) == words


def test_every_delivery_state_has_words() -> None:
    for state in get_args(DeliveryState):
        assert timeline.STATE_WORDS[state].endswith(".")
        assert state in timeline.STATE_ORDER


def _delivery(state: str, seconds: int, **extra: Any) -> dict[str, Any]:
    return {"state": state, "occurred_at": T + timedelta(seconds=seconds), "reasons": [], **extra}


def _decision(outcome: str, seconds: int, **extra: Any) -> dict[str, Any]:
    return {"outcome": outcome, "occurred_at": T + timedelta(seconds=seconds), "reasons": [],
            **extra}  # fmt: skip


@pytest.mark.parametrize(
    ("decisions", "deliveries", "state", "terminal"),
    [
        ([], [], "submitted", False),
        ([_decision("approved", 1)], [], "approved", False),
        ([_decision("deferred", 1, valid_until=T)], [], "deferred", False),
        ([_decision("rejected", 1)], [], "rejected", True),
        ([_decision("approved", 1)], [_delivery("accepted", 2), _delivery("sent", 3)], "sent",
         False),
        ([], [_delivery("delivered", 5), _delivery("sent", 3)], "delivered", True),
        # a late `sent` after `delivered` does not undo it
        ([], [_delivery("delivered", 3), _delivery("sent", 5)], "delivered", True),
        ([], [_delivery("delivered", 3), _delivery("read", 4)], "read", True),
        ([], [_delivery("held", 1)], "held", False),
        # one instant: the later state in an intent's life wins
        ([], [_delivery("delivered", 3), _delivery("sent", 3)], "delivered", True),
    ],
)  # fmt: skip
def test_the_final_state(
    decisions: list[dict[str, Any]], deliveries: list[dict[str, Any]], state: str, terminal: bool
) -> None:
    final = timeline.final_state(decisions, deliveries)
    assert (final.state, final.terminal) == (state, terminal)
    assert final.terminal == (state in TERMINAL_STATES or state == "rejected")


def test_entries_come_in_the_order_they_happened_with_reasons_in_words() -> None:
    intent = {"occurred_at": T, "body": {}}
    steps = timeline.entries(
        [intent, {"occurred_at": T + timedelta(seconds=9), "body": {}}],
        [_decision("rejected", 1, reasons=["WINDOW_CLOSED"])],
        [_delivery("rejected", 1, reasons=["WINDOW_CLOSED", "131047"])],
    )
    assert [e.kind for e in steps] == ["submitted", "decision", "delivery"]
    assert [r.code for r in steps[2].reasons] == ["WINDOW_CLOSED", "131047"]
    assert steps[1].reasons[0].words == timeline.REASON_WORDS[Reason.WINDOW_CLOSED.value]
