"""The watch over policy's input: a partition with records past an unmoving committed offset
is read again from that offset; a moving one, a caught-up one, or a worker that is
rebalancing or recovering is left alone."""

from __future__ import annotations

import asyncio
from collections import namedtuple
from types import SimpleNamespace
from typing import Any

import pytest

from services.policy.stall import StallWatch, waiting_offsets, watch_once

TP = namedtuple("TP", "topic partition")
INTENTS, CHANGELOG = TP("wagate.intents.v1", 0), TP("app-windows-changelog", 0)
NEVER = TP("wagate.intents.v1", 1)  # a partition with nothing committed yet


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_unmoving_committed_offset_with_records_behind_it_is_stalled() -> None:
    clock = Clock()
    watch = StallWatch(10.0, clock)
    assert watch.stalled({INTENTS: (16, 200)}) == []
    clock.now = 9.9
    assert watch.stalled({INTENTS: (16, 200)}) == []
    clock.now = 10.0
    assert watch.stalled({INTENTS: (16, 200)}) == [INTENTS]


def test_a_moving_or_caught_up_partition_is_not_stalled() -> None:
    clock = Clock()
    watch = StallWatch(10.0, clock)
    for step in range(1, 40):
        clock.now = step
        assert watch.stalled({INTENTS: (step, 200), CHANGELOG: (200, 200)}) == []
    clock.now = 45.0  # idle, nothing waiting: never stalled however long
    assert watch.stalled({INTENTS: (200, 200)}) == []
    clock.now = 50.0
    assert watch.stalled({INTENTS: (200, 201)}) == []  # a new record: its own full wait
    clock.now = 60.0
    assert watch.stalled({INTENTS: (200, 201)}) == [INTENTS]
    watch.restarted()
    assert watch.stalled({INTENTS: (200, 201)}) == []


def _app(*, rebalancing: bool = False, in_recovery: bool = False, flowing: bool = True) -> Any:
    seeks: list[int] = []
    positions: dict[Any, int] = {}

    async def perform_seek() -> None:  # as faust's: the committed offset marked as read
        seeks.append(1)
        consumer._read_offset.update(consumer._committed_offset)

    async def earliest_offsets(*tps: Any) -> dict[Any, int]:
        return {tp: 0 for tp in tps}

    async def seek(tp: Any, offset: int) -> None:
        positions[tp] = offset
        consumer._read_offset[tp] = offset  # as faust's, again

    consumer = SimpleNamespace(
        assignment=lambda: {INTENTS, CHANGELOG, NEVER},
        highwater=lambda tp: 200,
        _committed_offset={INTENTS: 16, CHANGELOG: 3, NEVER: None},
        _read_offset={INTENTS: 150, CHANGELOG: 3, NEVER: 0},
        flow_active=flowing,
        perform_seek=perform_seek,
        earliest_offsets=earliest_offsets,
        seek=seek,
    )
    return SimpleNamespace(
        consumer=consumer,
        rebalancing=rebalancing,
        in_recovery=in_recovery,
        seeks=seeks,
        positions=positions,
    )


def is_changelog(tp: Any) -> bool:
    return str(tp.topic).endswith("-changelog")


def test_the_offsets_watched_are_the_inputs_and_only_while_streams_flow() -> None:
    assert waiting_offsets(_app(), is_changelog) == {INTENTS: (16, 200), NEVER: (0, 200)}
    for paused in ({"rebalancing": True}, {"in_recovery": True}, {"flowing": False}):
        assert waiting_offsets(_app(**paused), is_changelog) == {}


def test_a_stall_seeks_back_once_and_starts_the_wait_again() -> None:
    clock = Clock()
    watch = StallWatch(10.0, clock)
    app = _app()

    async def looks() -> list[bool]:
        seen = [await watch_once(app, watch, is_changelog)]
        clock.now = 10.0
        seen.append(await watch_once(app, watch, is_changelog))
        seen.append(await watch_once(app, watch, is_changelog))  # the wait starts again
        return seen

    assert asyncio.run(looks()) == [False, True, False]
    assert app.seeks == [1]
    # the records at the committed offsets are handed over next, a partition's first too
    assert app.consumer._read_offset == {INTENTS: 15, CHANGELOG: 3, NEVER: None}
    assert app.positions == {NEVER: 0}  # never committed: read from its log's start


def test_a_failed_seek_is_tried_again_only_after_a_full_wait() -> None:
    clock = Clock()
    watch = StallWatch(10.0, clock)
    app = _app()

    async def broker_away() -> None:
        raise ConnectionError("no broker")

    app.consumer.perform_seek = broker_away

    async def looks() -> bool:
        await watch_once(app, watch, is_changelog)
        clock.now = 10.0
        with pytest.raises(ConnectionError):  # the supervisor counts it
            await watch_once(app, watch, is_changelog)
        clock.now = 15.0
        return await watch_once(app, watch, is_changelog)

    assert asyncio.run(looks()) is False
