"""Priority lanes: replies before notifications before marketing, due time within a lane,
customers inside their pair interval stepped over."""

from __future__ import annotations

import pytest

from services.dispatch.lanes import Lanes, Queued


def _q(intent_id: str, priority: str = "notification", to: str = "1") -> Queued:
    return Queued(intent_id, to, priority)


def _drain(lanes: Lanes, now: float, busy: frozenset[str] = frozenset()) -> list[str]:
    out: list[str] = []
    while (item := lanes.pop_ready(now, lambda r: 1.0 if r in busy else 0.0)) is not None:
        out.append(item.intent_id)
    return out


@pytest.mark.parametrize(
    ("pushed", "order"),
    [
        ([("m", "marketing"), ("n", "notification"), ("r", "reply")], ["r", "n", "m"]),
        ([("n1", "notification"), ("r", "reply"), ("n2", "notification")], ["r", "n1", "n2"]),
        ([("x", "unheard-of"), ("n", "notification")], ["n", "x"]),
    ],
)
def test_lanes_go_in_priority_order(pushed: list[tuple[str, str]], order: list[str]) -> None:
    lanes = Lanes()
    for intent_id, priority in pushed:
        lanes.push(_q(intent_id, priority), 0.0)
    assert _drain(lanes, 0.0) == order


def test_an_intent_waits_until_it_is_due() -> None:
    lanes = Lanes()
    lanes.push(_q("later", "reply"), 5.0)
    lanes.push(_q("now", "marketing"), 0.0)
    assert _drain(lanes, 1.0) == ["now"]
    assert lanes.next_due() == 5.0
    assert _drain(lanes, 5.0) == ["later"]
    assert lanes.next_due() is None


def test_a_busy_customer_is_stepped_over_and_comes_back_when_free() -> None:
    lanes = Lanes()
    lanes.push(_q("busy", "reply", to="a"), 0.0)
    lanes.push(_q("free", "reply", to="b"), 0.0)
    assert _drain(lanes, 0.0, frozenset({"a"})) == ["free"]
    assert lanes.next_due() == 1.0
    assert _drain(lanes, 1.0) == ["busy"]


def test_an_intent_is_queued_once_and_drain_empties_everything() -> None:
    lanes = Lanes()
    assert lanes.push(_q("i"), 0.0)
    assert not lanes.push(_q("i"), 0.0)
    lanes.push(_q("j", "marketing"), 9.0)
    assert len(lanes) == 2 and "i" in lanes
    assert {q.intent_id for q in lanes.drain()} == {"i", "j"}
    assert len(lanes) == 0 and lanes.next_due() is None
