"""Policy's flow control: a resume clears the streams' buffers only after a suspend, so the
records buffered for partitions that flow are never thrown away; the fetch is handed a copy
of the active partitions; and a record's hand-over that does not wait is done at once, one
that waits is raced against a suspension as mode races it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from mode.utils.locks import Event
from mode.utils.queues import FlowControlQueue

from services.policy.app import PolicyApp
from services.policy.flow import HeldFlow, SnapshotFetch


async def test_a_resume_of_a_flowing_stream_keeps_what_it_buffered() -> None:
    flow = HeldFlow(loop=asyncio.get_running_loop())
    queue: FlowControlQueue = FlowControlQueue(flow_control=flow, clear_on_resume=True)
    assert not flow.is_active()  # as faust's: suspended until the first recovery resumes it
    flow.resume()
    queue.put_nowait("intent at offset 17")
    flow.resume()  # faust's recovery resumes standbys while the streams run
    assert queue.qsize() == 1
    assert flow.is_active()


async def test_a_resume_after_a_suspend_clears_what_was_fetched_before_the_seek() -> None:
    flow = HeldFlow(loop=asyncio.get_running_loop())
    queue: FlowControlQueue = FlowControlQueue(flow_control=flow, clear_on_resume=True)
    flow.resume()
    queue.put_nowait("fetched before the rebalance")
    flow.suspend()
    assert not flow.is_active()
    flow.resume()
    assert queue.qsize() == 0
    assert flow.is_active()


def test_the_policy_app_streams_use_the_held_flow() -> None:
    app = PolicyApp("flow-test", broker="kafka://localhost:9092", store="memory://")
    assert isinstance(app.flow_control, HeldFlow)
    queue = app.FlowControlQueue(maxsize=4, clear_on_resume=True)
    app.flow_control.resume()
    queue.put_nowait("x")
    app.flow_control.resume()
    assert queue.qsize() == 1


async def test_the_fetch_is_handed_a_copy_of_the_active_partitions() -> None:
    handed: list[set[str]] = []

    async def getmany(partitions: set[str], timeout: float) -> dict[str, list[int]]:
        handed.append(partitions)
        active.clear()  # faust pauses the inputs meanwhile, on its own thread
        return {}

    fetch = object.__new__(SnapshotFetch)  # only the thread it hands the fetch to
    fetch._thread = SimpleNamespace(getmany=getmany)  # type: ignore[assignment]
    active = {"intents/0", "intents/1"}
    await fetch._getmany(active, 1.0)
    assert handed == [{"intents/0", "intents/1"}]  # not emptied: not "every partition"
    assert handed[0] is not active


def test_the_policy_app_fetches_with_the_snapshot() -> None:
    app = PolicyApp("fetch-test", broker="kafka://localhost:9092", store="memory://")
    assert app.transport.Consumer is SnapshotFetch  # what the worker's consumer is made as


def _drain() -> SnapshotFetch:
    """A consumer with only what the race reads: its stop and crash flags and its loop."""
    consumer = object.__new__(SnapshotFetch)
    consumer._stopped, consumer._crashed = Event(), Event()
    consumer._loop = asyncio.get_running_loop()
    return consumer


@contextmanager
def _tasks_made() -> Iterator[list[object]]:
    loop = asyncio.get_running_loop()
    made: list[object] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        made.append(coro)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        yield made
    finally:
        loop.set_task_factory(None)


async def test_a_hand_over_that_does_not_wait_is_done_at_once_and_nothing_else_runs() -> None:
    handed: list[str] = []
    suspended = Event()

    async def hand_over() -> str:
        handed.append("record 5")
        return "queued"

    suspension = suspended.wait()
    with _tasks_made() as made:
        _, results, stopped = await _drain().wait_first(hand_over(), suspension)
    assert handed == ["record 5"] and results == ["queued"] and not stopped
    assert made == []  # mode's makes four tasks for each record
    assert suspension.cr_frame is None  # closed, never left unawaited


async def test_a_hand_over_that_waits_is_raced_from_where_it_waits() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
    queue.put_nowait("record 4")
    steps: list[str] = []

    async def hand_over() -> str:
        steps.append("decoded")
        await asyncio.sleep(0)  # a bare yield
        await queue.put("record 5")  # full: waits for room
        steps.append("queued")
        return "queued"

    race = asyncio.ensure_future(_drain().wait_first(hand_over(), Event().wait()))
    for _ in range(5):
        await asyncio.sleep(0)
    assert steps == ["decoded"] and not race.done()
    assert await queue.get() == "record 4"
    _, results, stopped = await race
    assert results == ["queued"] and not stopped
    assert steps == ["decoded", "queued"]  # each step once: none run again
    assert queue.get_nowait() == "record 5" and queue.empty()


async def test_a_suspension_while_a_hand_over_waits_cancels_it_where_it_waits() -> None:
    queue: asyncio.Queue[str] = asyncio.Queue(maxsize=1)
    queue.put_nowait("record 4")
    suspended = Event()
    met: list[str] = []

    async def hand_over() -> None:
        try:
            await queue.put("record 5")
        except asyncio.CancelledError:
            met.append("cancelled")
            raise

    race = asyncio.ensure_future(_drain().wait_first(hand_over(), suspended.wait()))
    await asyncio.sleep(0)
    suspended.set()
    winners, _, stopped = await race
    assert len(winners) == 1 and not stopped  # the suspension won, as in mode's race
    assert met == ["cancelled"]
    assert queue.qsize() == 1 and not queue._putters  # type: ignore[attr-defined]


async def test_a_hand_over_that_fails_at_once_fails_the_race() -> None:
    async def hand_over() -> None:
        raise ValueError("undecodable key")

    suspension = Event().wait()
    with pytest.raises(ValueError, match="undecodable key"):
        await _drain().wait_first(hand_over(), suspension)
    assert suspension.cr_frame is None


async def test_a_stopped_consumer_races_as_mode_does() -> None:
    consumer = _drain()
    consumer._stopped.set()
    ran: list[str] = []

    async def hand_over() -> None:
        ran.append("ran")

    *_, stopped = await consumer.wait_first(hand_over(), Event().wait())
    assert stopped  # mode's answer for a stopped service
