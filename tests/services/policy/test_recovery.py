"""Policy's table recovery answers whether it is done as faust's own does, over any sequence
of highwaters and recovered offsets; it applies every record queued in a few turns of the
event loop and leaves the tables as faust's own loop does; and the policy app recovers with
it."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from faust.tables.recovery import Recovery
from hypothesis import given
from hypothesis import strategies as st

from services.policy.app import create_app
from services.policy.recovery import QuickRecovery
from services.policy.settings import PolicySettings
from tests.conftest import SEALING_KEY

offsets = st.one_of(st.none(), st.integers(min_value=0, max_value=5))
steps = st.lists(
    st.tuples(st.integers(min_value=0, max_value=5), offsets, offsets), min_size=1, max_size=40
)


@given(steps)
def test_it_needs_recovery_exactly_when_faust_would(changes: list[tuple[int, int, int]]) -> None:
    recovery = object.__new__(QuickRecovery)  # the two fields the answer reads, nothing else
    recovery.active_highwaters, recovery.active_offsets = Counter(), Counter()
    for tp, highwater, offset in changes:
        recovery.active_highwaters[tp] = highwater
        recovery.active_offsets[tp] = offset
        assert recovery.need_recovery() == Recovery.need_recovery(recovery)


def test_a_partition_caught_up_is_not_taken_for_one_still_behind() -> None:
    recovery = object.__new__(QuickRecovery)
    recovery.active_highwaters = Counter({"a": 10, "b": 10})
    recovery.active_offsets = Counter({"a": 3, "b": 10})
    assert recovery.need_recovery()  # "a" lags, and is looked at first next time
    recovery.active_offsets["a"] = 10
    assert not recovery.need_recovery()
    recovery.active_highwaters["b"] = 12
    assert recovery.need_recovery()


def test_the_policy_app_recovers_its_tables_with_it(tmp_path: Path) -> None:
    settings = PolicySettings(data_dir=tmp_path, sealing_keys=[SEALING_KEY])
    app = create_app(settings)
    assert isinstance(app.tables.recovery, QuickRecovery)


@dataclass(eq=False)
class _Table:
    """What the recovery loop asks of a table: its buffer sizes, and the batches applied."""

    recovery_buffer_size: int = 4
    standby_buffer_size: int = 3
    applied: list[list[int]] = field(default_factory=list)
    seen: int = 0

    async def on_changelog_event(self, event: Any) -> None:
        self.seen += 1

    def apply_changelog_batch(self, events: list[Any]) -> None:
        if events:
            self.applied.append([event.message.offset for event in events])


def _flat(batches: list[list[int]]) -> list[int]:
    return [offset for batch in batches for offset in batch]


def _record(tp: str, offset: int) -> SimpleNamespace:
    return SimpleNamespace(message=SimpleNamespace(tp=tp, offset=offset))


def _recovering(
    tmp_path: Path,
    actives: dict[str, tuple[_Table, int]],
    standbys: dict[str, tuple[_Table, int]] | None = None,
) -> Recovery:
    """The app's recovery, recovering `actives` (partition -> its table and highwater) and
    `standbys` alike, every offset not seen yet."""
    settings = PolicySettings(data_dir=tmp_path, sealing_keys=[SEALING_KEY])
    recovery = create_app(settings).tables.recovery
    for tp, (table, highwater) in actives.items():
        recovery.active_tps.add(tp)
        recovery.tp_to_table[tp] = table
        recovery.active_offsets[tp] = -1  # as faust seeks it: nothing read yet
        recovery.active_highwaters[tp] = highwater
    for tp, (table, highwater) in (standbys or {}).items():
        recovery.standby_tps.add(tp)
        recovery.tp_to_table[tp] = table
        recovery.standby_offsets[tp] = -1
        recovery.standby_highwaters[tp] = highwater
    recovery._set_recovery_started()
    return recovery


async def _slurped(recovery: Recovery, loop: Any, records: list[Any]) -> int:
    """Queue `records`, run `loop` (a recovery loop's function) until the end is signalled;
    returns the event loop's turns that took."""
    queue = recovery.tables.changelog_queue
    for record in records:
        queue.put_nowait(record)
    ended = asyncio.ensure_future(recovery.signal_recovery_end.wait())  # set, then cleared
    task = asyncio.create_task(loop(recovery))
    try:
        for turn in range(1, 10 * len(records) + 20):
            await asyncio.sleep(0)
            if ended.done():
                return turn
        raise AssertionError("the end of recovery was never signalled")
    finally:
        while not task.done():  # asyncio.wait_for (3.11) can swallow a cancellation: again
            task.cancel()
            await asyncio.sleep(0)
        ended.cancel()


async def test_every_record_queued_is_applied_in_a_few_turns_and_the_end_signalled(
    tmp_path: Path,
) -> None:
    windows = _Table()
    recovery = _recovering(tmp_path, {"windows/0": (windows, 299)})
    turns = await _slurped(recovery, QuickRecovery._slurp_changelogs.fun, [
        _record("windows/0", offset) for offset in range(300)
    ])  # fmt: skip
    assert turns <= 5  # not a turn (a task and a timer) for each record
    assert _flat(windows.applied) == list(range(300))
    assert {len(batch) for batch in windows.applied[:-1]} == {4}  # in the table's batches
    assert recovery.active_offsets["windows/0"] == 299
    assert not recovery.in_recovery


SCENARIOS = {
    "repeats and an offset behind": (
        [("a", 0), ("a", 1), ("a", 1), ("a", 0), ("a", 2), ("a", 3), ("a", 4), ("a", 5)],
        {"a": 5},
        {},
    ),
    "two tables": (
        [("a", 0), ("b", 0), ("b", 1), ("a", 1), ("a", 2), ("b", 2), ("b", 3), ("a", 3)],
        {"a": 3, "b": 3},
        {},
    ),
    "a standby beside the actives": (
        [("s", 0), ("a", 0), ("s", 1), ("s", 2), ("s", 3), ("a", 1), ("a", 2)],
        {"a": 2},
        {"s": 3},
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_it_leaves_the_tables_as_faust_s_own_loop_does(tmp_path: Path, scenario: str) -> None:
    records, actives, standbys = SCENARIOS[scenario]
    outcomes = []
    for n, loop in enumerate((QuickRecovery._slurp_changelogs.fun, Recovery._slurp_changelogs.fun)):
        tables = {tp: _Table() for tp in {**actives, **standbys}}
        recovery = _recovering(
            tmp_path / str(n),
            {tp: (tables[tp], highwater) for tp, highwater in actives.items()},
            {tp: (tables[tp], highwater) for tp, highwater in standbys.items()},
        )
        await _slurped(recovery, loop, [_record(tp, offset) for tp, offset in records])
        recovery.flush_buffers()
        outcomes.append((
            {tp: (_flat(table.applied), table.seen) for tp, table in tables.items()},
            dict(recovery.active_offsets),
            dict(recovery.standby_offsets),
            recovery.tables.standbys_ready,
        ))  # fmt: skip
    assert outcomes[0] == outcomes[1]
    applied = outcomes[0][0]
    assert all(offsets == sorted(set(offsets)) for offsets, _ in applied.values())


async def test_a_record_of_a_partition_it_does_not_recover_goes_into_no_table(
    tmp_path: Path,
) -> None:
    windows = _Table()
    recovery = _recovering(tmp_path, {"windows/0": (windows, 1)})
    records = [_record("windows/0", 0), _record("stranger/3", 7), _record("windows/0", 1)]
    await _slurped(recovery, QuickRecovery._slurp_changelogs.fun, records)
    assert _flat(windows.applied) == [0, 1]  # the stranger's record is not taken for one
    assert "stranger/3" not in recovery.active_offsets


async def test_under_transactions_faust_s_own_loop_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recovery = _recovering(tmp_path, {"windows/0": (_Table(), 0)})
    ran: list[object] = []

    async def faust_s(self: Recovery) -> None:
        ran.append(self)

    monkeypatch.setattr(type(recovery.app), "in_transaction", property(lambda _: True))
    monkeypatch.setattr(Recovery._slurp_changelogs, "fun", faust_s)
    await QuickRecovery._slurp_changelogs.fun(recovery)  # it looks for aborted transactions
    assert ran == [recovery]
