"""Policy's flow control: a resume clears the streams' buffers only after a suspend, so the
records buffered for partitions that flow are never thrown away."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

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
