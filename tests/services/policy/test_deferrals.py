"""Deferred intents: held per conversation, released once at their time, taken back once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.policy.deferrals import Deferrals

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _deferrals() -> tuple[Deferrals, dict[str, Any], list[tuple[str, bytes]]]:
    table: dict[str, Any] = {}
    released: list[tuple[str, bytes]] = []

    async def release(key: str, value: bytes) -> None:
        released.append((key, value))

    return Deferrals(table, release), table, released


def test_intents_are_held_per_conversation() -> None:
    deferrals, table, _ = _deferrals()
    deferrals.hold("1:a", "i-1", NOW + H, b'{"intent_id": "i-1"}')
    deferrals.hold("1:a", "i-2", NOW + 2 * H, b'{"intent_id": "i-2"}')
    deferrals.hold("1:b", "i-3", NOW + H, b'{"intent_id": "i-3"}')
    assert sorted(deferrals.held("1:a")) == ["i-1", "i-2"]
    assert deferrals.held("1:a")["i-1"] == {
        "release_at": (NOW + H).isoformat(),
        "intent": '{"intent_id": "i-1"}',
    }
    assert sorted(table) == ["1:a", "1:b"]
    assert deferrals.held("1:c") == {}


def test_taking_an_intent_returns_its_release_time_once_and_empties_the_entry() -> None:
    deferrals, table, _ = _deferrals()
    deferrals.hold("1:a", "i-1", NOW + H, b"{}")
    deferrals.hold("1:a", "i-2", NOW + H, b"{}")
    assert deferrals.take("1:a", "i-1") == (NOW + H).isoformat()
    assert deferrals.take("1:a", "i-1") is None  # taken before
    assert list(deferrals.held("1:a")) == ["i-2"]
    assert deferrals.take("1:a", "i-2") is not None
    assert "1:a" not in table
    assert deferrals.take("1:z", "i-9") is None


async def test_due_intents_are_released_once_each_and_stay_held_until_taken() -> None:
    deferrals, _, released = _deferrals()
    deferrals.hold("1:a", "i-1", NOW + H, b"one")
    deferrals.hold("1:b", "i-2", NOW + 2 * H, b"two")
    assert await deferrals.release_due(NOW) == 0
    assert await deferrals.release_due(NOW + H) == 1
    assert await deferrals.release_due(NOW + H) == 0  # sent already
    assert await deferrals.release_due(NOW + 3 * H) == 1
    assert released == [("1:a", b"one"), ("1:b", b"two")]
    assert list(deferrals.held("1:a")) == ["i-1"]  # the intents agent takes it out


async def test_an_intent_held_again_for_a_later_time_is_released_again() -> None:
    deferrals, _, released = _deferrals()
    deferrals.hold("1:a", "i-1", NOW, b"first")
    assert await deferrals.release_due(NOW) == 1
    deferrals.take("1:a", "i-1")
    deferrals.hold("1:a", "i-1", NOW + H, b"again")
    assert await deferrals.release_due(NOW + H) == 1
    assert released == [("1:a", b"first"), ("1:a", b"again")]
