"""The order of one intent's delivery updates, over every pair of states: the contract's
`may_follow`, and dispatch's ledger (`outcomes.advance`) held to it."""

from __future__ import annotations

from itertools import product
from typing import get_args

import pytest

from services.dispatch.ledger import REPORTED_AS, LedgerState
from services.dispatch.outcomes import advance
from shared.events.delivery import TERMINAL_STATES, DeliveryState, may_follow

STATES: tuple[str, ...] = get_args(DeliveryState)
META = ("sent", "delivered", "read", "played", "failed")
ANY = set(STATES)
# What may follow each state, written out: the table the contract promises.
FOLLOWS: dict[str, set[str]] = {
    "held": ANY - {"held"},
    "unknown": ANY,  # again, reason OUTCOME_UNCONFIRMED, when no status came in time
    "accepted": ANY,  # again, with the fallback's wamid, after Meta's 131047
    "sent": {"delivered", "read", "played", "failed"},
    "delivered": {"read", "played"},
    "read": set(),
    "played": set(),
    "failed": set(),
    "rejected": set(),
    "expired": set(),
}


@pytest.mark.parametrize(("current", "new"), list(product(STATES, STATES)))
def test_every_pair_of_delivery_states(current: str, new: str) -> None:
    assert may_follow(current, new) is (new in FOLLOWS[current])


@pytest.mark.parametrize("new", STATES)
def test_only_a_real_status_follows_wagates_own_failed_guess(new: str) -> None:
    assert may_follow("failed", new, guessed=True) is (new in META)


def test_nothing_follows_a_terminal_state_but_read_after_delivered() -> None:
    after = {s: {n for n in STATES if may_follow(s, n)} for s in TERMINAL_STATES}
    assert after == {
        "rejected": set(), "expired": set(), "failed": set(), "read": set(),
        "delivered": {"read", "played"},
    }  # fmt: skip


def _expected(current: LedgerState, status: str) -> str | None:
    if current in (LedgerState.QUEUED, LedgerState.SENDING, LedgerState.REDECIDING):
        return status  # a status of an earlier send that did reach Meta: it wins
    said = REPORTED_AS.get(current)
    assert said is not None
    ok = may_follow(said, status, guessed=current is LedgerState.NOT_SENT)
    return status if ok else None


@pytest.mark.parametrize(
    ("current", "status"), list(product(list(LedgerState), [*META, "accepted", "deleted"]))
)
def test_every_ledger_state_and_status_of_metas(current: LedgerState, status: str) -> None:
    expected = _expected(current, status) if status in META else None
    assert advance(current, status) == expected


@pytest.mark.parametrize("current", list(LedgerState))
def test_the_ledger_never_reports_a_move_the_contract_forbids(current: LedgerState) -> None:
    said = REPORTED_AS.get(current)
    for status in META:
        moved = advance(current, status)
        if moved is not None and said is not None:
            guessed = current is LedgerState.NOT_SENT
            assert may_follow(said, REPORTED_AS[moved], guessed=guessed), (current, status)


def test_every_ledger_state_but_the_internal_ones_is_a_delivery_state() -> None:
    assert set(REPORTED_AS.values()) <= ANY
    internal = {LedgerState.QUEUED, LedgerState.SENDING, LedgerState.REDECIDING}
    assert set(LedgerState) - set(REPORTED_AS) == internal
