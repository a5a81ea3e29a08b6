"""The window timer's schedule: a tick reads only the windows with a change due, a window
that moved on is not announced for its old end, windows filled behind the handlers' back are
scheduled on reload, a slice at a time, and stale entries do not pile up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from services.policy import windows
from services.policy.expiries import SLICE, Expiries, Watched
from services.policy.windows import WindowState

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
LEAD = H


class Table:
    """Windows by key, counting the reads the schedule makes."""

    def __init__(self) -> None:
        self.states: dict[str, WindowState] = {}
        self.reads = 0
        self.expiries = Expiries(self.read)
        self.watched = Watched(self.states, self.expiries.touched)  # type: ignore[arg-type]

    def read(self, key: str) -> WindowState | None:
        self.reads += 1
        return self.states.get(key)

    def write(self, key: str, last_message_at: datetime) -> None:
        self.watched[key] = WindowState(last_customer_message_at=last_message_at)

    async def changes(self, now: datetime) -> dict[str, list[str]]:
        """What is due at `now`, by key: a window whose end is more than an hour gone is
        announced no more (`windows.due_changes`)."""
        due = await self.expiries.due(now, LEAD)
        found = {k: windows.due_changes(s, now, LEAD, H) for k, s in due}
        return {k: v for k, v in found.items() if v}


async def test_a_window_is_due_at_its_expiring_instant_and_at_its_end_only() -> None:
    t = Table()
    t.write("a", NOW)
    assert await t.changes(NOW + 22 * H) == {}
    assert await t.changes(NOW + 23 * H + timedelta(minutes=1)) == {"a": ["expiring"]}
    assert await t.changes(NOW + 23 * H + timedelta(minutes=2)) == {}
    assert await t.changes(NOW + 24 * H) == {"a": ["closed"]}
    assert await t.changes(NOW + 24 * H + timedelta(minutes=1)) == {}
    assert t.expiries.scheduled == 0  # closed: nothing is kept for it


async def test_a_tick_reads_only_the_windows_that_are_due() -> None:
    t = Table()
    for n in range(5_000):
        t.write(f"c{n}", NOW + timedelta(seconds=n))
    assert await t.changes(NOW) == {}  # schedules them: one read each
    t.reads = 0
    for minute in range(1, 30):
        assert await t.changes(NOW + minute * timedelta(minutes=1)) == {}
    assert t.reads == 0
    due = await t.changes(NOW + 23 * H + timedelta(seconds=9))
    assert sorted(due) == [f"c{n}" for n in range(10)]
    assert t.reads == 10


async def test_a_window_that_moved_on_is_not_announced_for_its_old_end() -> None:
    t = Table()
    t.write("a", NOW)
    await t.changes(NOW)
    t.write("a", NOW + 5 * H)  # the customer wrote again: the window ends 5 h later
    assert await t.changes(NOW + 23 * H + timedelta(minutes=1)) == {}
    assert await t.changes(NOW + 24 * H + timedelta(minutes=1)) == {}
    assert await t.changes(NOW + 28 * H + timedelta(minutes=1)) == {"a": ["expiring"]}
    assert await t.changes(NOW + 29 * H) == {"a": ["closed"]}


async def test_a_deleted_or_moved_window_follows_its_key() -> None:
    t = Table()
    t.write("pn:phone", NOW)
    await t.changes(NOW)
    t.watched["pn:bsuid"] = t.watched["pn:phone"]  # an identity move: same window, new key
    del t.watched["pn:phone"]
    assert await t.changes(NOW + 23 * H + timedelta(minutes=1)) == {"pn:bsuid": ["expiring"]}


async def test_windows_filled_behind_the_handlers_back_are_scheduled_on_reload() -> None:
    t = Table()
    t.states.update({"r1": WindowState(last_customer_message_at=NOW - 23.5 * H)})
    t.states.update({"r2": WindowState(last_customer_message_at=NOW)})
    assert await t.changes(NOW) == {}  # not known yet: recovered from the changelog
    t.expiries.reload(list(t.states))
    assert await t.changes(NOW) == {"r1": ["expiring"]}  # inside the lead already
    assert await t.changes(NOW + 23 * H) == {"r2": ["expiring"]}


async def test_a_window_already_past_its_end_is_closed_in_one_tick() -> None:
    t = Table()
    t.states["late"] = WindowState(last_customer_message_at=NOW - 24.5 * H)
    t.expiries.reload(["late"])
    assert await t.changes(NOW) == {"late": ["closed"]}
    assert await t.changes(NOW + timedelta(minutes=1)) == {}


async def test_scheduling_many_windows_yields_to_the_event_loop_between_slices() -> None:
    t = Table()
    t.states.update({f"c{n}": WindowState(last_customer_message_at=NOW) for n in range(3 * SLICE)})
    t.expiries.reload(list(t.states))
    ticks = 0

    async def other() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    await asyncio.sleep(0)
    await t.changes(NOW)
    task.cancel()
    assert ticks >= 3  # ran between the slices
    assert t.expiries.scheduled == 3 * SLICE


async def test_stale_entries_do_not_pile_up() -> None:
    t = Table()
    for n in range(3_000):  # one window refreshed 3,000 times
        t.write("a", NOW + n * timedelta(seconds=1))
        await t.changes(NOW)
    assert len(t.expiries._heap) <= 2 * t.expiries.scheduled + 1_000
    assert await t.changes(NOW + 23 * H + timedelta(seconds=2999)) == {"a": ["expiring"]}


async def test_a_new_lead_schedules_every_window_again() -> None:
    t = Table()
    t.write("a", NOW)
    await t.changes(NOW)
    due = await t.expiries.due(NOW + 21.5 * H, 3 * H)
    assert [k for k, _ in due] == ["a"]
