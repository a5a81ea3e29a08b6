"""Group commit (`shared.batches.Batch`): the calls of one moment go as one round trip, each caller
gets its own result or error, and two calls with one key never share a batch."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from shared.batches import Batch


class Recorder:
    """A `run_many` that keeps every batch it was given; "bad" items fail alone, "boom"
    fails the whole statement."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def run_many(self, items: Sequence[str]) -> list[str | BaseException]:
        self.batches.append(list(items))
        await asyncio.sleep(0.01)  # a round trip: calls made meanwhile wait for the next
        if "boom" in items:
            raise ConnectionError("the statement failed")
        return [ValueError(item) if item.startswith("bad") else item.upper() for item in items]


def _batch(recorder: Recorder, max_size: int = 500) -> Batch[str, str]:
    return Batch(
        recorder.run_many, keys=lambda item: item.split(":")[0].split("+"), max_size=max_size
    )


async def test_concurrent_calls_share_one_round_trip_and_get_their_own_results() -> None:
    recorder = Recorder()
    batch = _batch(recorder)
    results = await asyncio.gather(*(batch(f"i{n}") for n in range(50)))
    assert results == [f"I{n}" for n in range(50)]
    assert recorder.batches == [[f"i{n}" for n in range(50)]]


async def test_calls_made_during_a_round_trip_go_together_in_the_next() -> None:
    recorder = Recorder()
    batch = _batch(recorder)
    first = asyncio.ensure_future(batch("a"))
    await asyncio.sleep(0.001)  # the first statement is on its way
    later = await asyncio.gather(batch("b"), batch("c"), batch("d"))
    assert await first == "A" and later == ["B", "C", "D"]
    assert recorder.batches == [["a"], ["b", "c", "d"]]


async def test_a_key_called_twice_waits_for_the_next_batch_in_order() -> None:
    recorder = Recorder()
    batch = _batch(recorder)
    results = await asyncio.gather(batch("x:1"), batch("y:1"), batch("x:2"), batch("x:3"))
    assert results == ["X:1", "Y:1", "X:2", "X:3"]
    assert recorder.batches == [["x:1", "y:1"], ["x:2"], ["x:3"]]


async def test_a_call_sharing_any_key_with_the_batch_waits_for_the_next() -> None:
    recorder = Recorder()
    batch = _batch(recorder)
    await asyncio.gather(batch("a+b"), batch("c"), batch("b+d"), batch("e+f"))
    assert recorder.batches == [["a+b", "c", "e+f"], ["b+d"]]


async def test_a_batch_holds_at_most_its_size() -> None:
    recorder = Recorder()
    batch = _batch(recorder, max_size=3)
    await asyncio.gather(*(batch(f"i{n}") for n in range(7)))
    assert [len(b) for b in recorder.batches] == [3, 3, 1]


async def test_an_item_refused_fails_only_its_own_caller() -> None:
    recorder = Recorder()
    batch = _batch(recorder)
    results = await asyncio.gather(batch("ok"), batch("bad"), return_exceptions=True)
    assert results[0] == "OK"
    assert isinstance(results[1], ValueError) and str(results[1]) == "bad"


async def test_a_failed_statement_fails_its_batch_and_the_next_still_runs() -> None:
    recorder = Recorder()
    batch = _batch(recorder)
    failed = await asyncio.gather(batch("boom"), batch("other"), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in failed)
    assert await batch("after") == "AFTER"


async def test_a_cancelled_caller_leaves_the_others_their_results() -> None:
    recorder = Recorder()
    batch = _batch(recorder)
    gone = asyncio.ensure_future(batch("gone"))
    kept = asyncio.ensure_future(batch("kept"))
    await asyncio.sleep(0.001)
    gone.cancel()
    assert await kept == "KEPT"
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert recorder.batches == [["gone", "kept"]]  # its write was already on its way
