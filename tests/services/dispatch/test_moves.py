"""What a batch of statuses does, worked out in memory: each message's moves in rounds over the
row as the statuses before leave it, what goes to the one-at-a-time path (and everything after
it of its message), a cut move; and a batch's charges as recording them one by one would."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.dispatch.charges import Charge
from services.dispatch.ledger import LedgerRow, LedgerState
from services.dispatch.moves import Group, charges_once, planned, rounds
from services.dispatch.statuses import in_turn
from shared.events.envelope import utcnow
from shared.events.webhooks import MessageStatusReported
from tests.services.dispatch.conftest import reported

NOW = utcnow()
PAID = {"type": "regular", "category": "utility"}


def _row(intent_id: str = "i-1", state: str = "accepted", **fields: object) -> LedgerRow:
    base = LedgerRow(intent_id, "pn-1", "16505551234", LedgerState(state), "wamid.A", 1, {})
    return replace(base, **{"reported": state, **fields})  # type: ignore[arg-type]


def _plan(statuses: list[MessageStatusReported], *rows: LedgerRow) -> list[Group]:
    return planned(statuses, in_turn(statuses), rows, lambda row: None)


def _states(group: Group) -> list[tuple[int, str]]:
    return [(m.at, m.state) for m in group.moves]


@pytest.mark.parametrize(
    ("said", "row", "moved", "left"),
    [
        (["sent", "delivered", "read"], _row(), [(0, "sent"), (1, "delivered"), (2, "read")], []),
        (["delivered", "sent", "delivered"], _row(), [(0, "delivered")], []),  # repeats: nothing
        (["sent", "failed", "read"], _row(), [(0, "sent")], [1, 2]),  # a failure: one at a time
        (["read"], _row(state="read", reported="delivered"), [], [0]),  # publish it again
        (["delivered", "read"], _row(state="delivered", reported="accepted"), [], [0, 1]),
        (["sent", "read"], _row(superseded=("wamid.A",)), [], []),  # a replaced send's
        (["sent"], _row(state="redeciding"), [(0, "sent")], []),  # a real status wins
    ],
)
def test_one_message_s_statuses_move_in_order_until_one_needs_more(
    said: list[str], row: LedgerRow, moved: list[tuple[int, str]], left: list[int]
) -> None:
    statuses = [reported("i-1", "wamid.A", s) for s in said]
    [group] = _plan(statuses, row)
    assert _states(group) == moved
    assert group.left == left and group.steps == [n for n in range(len(said)) if n not in left]
    expected = [row.state, *[m.state for m in group.moves]][: len(group.moves)]
    assert [m.expect for m in group.moves] == expected  # each from where the one before left it


def test_a_status_of_no_intent_read_and_its_message_s_later_ones_are_left() -> None:
    statuses = [reported(None, "wamid.Z", "sent"), reported("i-1", "wamid.Z", "delivered")]
    [group] = _plan(statuses, _row(wamid=None))
    assert group.left == [0, 1] and group.moves == []


def test_a_wamid_given_by_one_status_finds_the_intent_for_the_next() -> None:
    statuses = [reported("i-1", "wamid.NEW", "sent"), reported(None, "wamid.NEW", "delivered")]
    [group] = _plan(statuses, _row(state="unknown", wamid=None))
    assert [(m.state, m.change.wamid) for m in group.moves] == [
        ("sent", "wamid.NEW"),
        ("delivered", None),
    ]


def test_an_intent_two_messages_touch_is_left_to_the_second_one_at_a_time() -> None:
    # the intent's ledger wamid is B; a status names it by callback with another wamid (A)
    statuses = [reported("i-1", "wamid.A", "sent"), reported(None, "wamid.B", "delivered")]
    first, second = _plan(statuses, _row(wamid="wamid.B"))
    assert [m.state for m in first.moves] == ["sent"] and first.moves[0].second_wamid
    assert second.left == [1] and second.moves == []


def test_rounds_are_the_most_moves_of_one_message_and_a_cut_drops_the_rest() -> None:
    statuses = [reported("i-1", "wamid.A", s) for s in ("sent", "delivered", "read")]
    statuses.append(reported("i-2", "wamid.B", "read"))
    groups = _plan(statuses, _row(), _row("i-2", wamid="wamid.B"))
    assert rounds(groups) == 3 and [len(g.moves) for g in groups] == [3, 1]
    groups[0].cut(1)  # its delivered met an intent changed meanwhile
    assert (groups[0].steps, groups[0].left, len(groups[0].moves)) == ([0], [1, 2], 1)
    assert rounds(groups) == 1


def _charge(at: int, delivered: bool, category: str = "utility", wamid: str = "w") -> Charge:
    return Charge(
        wamid, "i", "pn", "", category, "regular", "PMP", True, delivered,
        NOW + timedelta(seconds=at),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("charges", "kept"),
    [
        ([_charge(0, False)], (0, False, "utility")),
        ([_charge(0, False), _charge(1, False, "marketing")], (0, False, "marketing")),  # latest
        (
            [_charge(0, False), _charge(1, True, "marketing"), _charge(2, True)],
            (0, True, "marketing"),
        ),
        ([_charge(0, True), _charge(1, False, "service")], (0, True, "utility")),  # kept for good
    ],
)
def test_a_batch_s_charges_of_one_wamid_are_what_recording_each_would_leave(
    charges: list[Charge], kept: tuple[int, bool, str]
) -> None:
    [charge] = charges_once(charges)
    at, delivered, category = kept
    assert (charge.at, charge.delivered, charge.category) == (
        NOW + timedelta(seconds=at),
        delivered,
        category,
    )


def test_a_batch_s_charges_are_one_per_wamid_in_their_order() -> None:
    charges = [
        _charge(0, False, wamid="b"),
        _charge(1, True, wamid="a"),
        _charge(2, True, wamid="b"),
    ]
    assert [(c.wamid, c.delivered) for c in charges_once(charges)] == [("b", True), ("a", True)]


def test_charges_are_worked_out_only_with_a_book_to_keep_them() -> None:
    statuses = [reported("i-1", "wamid.A", "delivered", pricing=PAID)]
    [without] = planned(statuses, in_turn(statuses), [_row()], None)
    [priced] = planned(statuses, in_turn(statuses), [_row()], lambda row: None)
    assert without.charges == {} and list(priced.charges) == [0]
    assert priced.charges[0].delivered and priced.charges[0].intent_id == "i-1"
