"""Group commit for a store: calls made while a round trip is on its way wait for the next one
and go together, so many concurrent callers cost one statement, not one each.

A caller still returns only once its own write is done (a send is recorded before its request
leaves, exactly as with one statement per call); what a batch cannot do alone it does call by
call (`Batch` says how). A batch never holds one key twice: a later call naming a key already
in the batch waits for the next one, so each call sees the state the one before it left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

MAX_BATCH = 500
"""The most calls one statement carries (PostgreSQL's arrays take more; a batch this size is
already one round trip for what a second of sends at Meta's top tier would make)."""


@dataclass
class _Call(Generic[Item, Result]):
    item: Item
    done: asyncio.Future[Result]


@dataclass
class Batch(Generic[Item, Result]):
    """Calls of `run_many` (one round trip for a list of items, a result for each, in order);
    `keys` names what an item writes (two calls sharing a key never share a batch)."""

    run_many: Callable[[Sequence[Item]], Awaitable[Sequence[Result | BaseException]]]
    keys: Callable[[Item], Collection[Hashable]]
    max_size: int = MAX_BATCH
    _waiting: list[_Call[Item, Result]] = field(default_factory=list)
    _flushing: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        call: _Call[Item, Result] = _Call(item, asyncio.get_running_loop().create_future())
        self._waiting.append(call)
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        return await call.done

    def _next(self) -> list[_Call[Item, Result]]:
        taken: list[_Call[Item, Result]] = []
        left: list[_Call[Item, Result]] = []
        keys: set[Hashable] = set()
        for call in self._waiting:
            named = self.keys(call.item)
            if len(taken) >= self.max_size or not keys.isdisjoint(named):
                left.append(call)
            else:
                keys.update(named)
                taken.append(call)
        self._waiting = left
        return taken

    async def _flush(self) -> None:
        batch: list[_Call[Item, Result]] = []
        try:
            await asyncio.sleep(0)  # the calls made in this turn of the loop go together
            while self._waiting:
                batch = self._next()
                try:
                    results = await self.run_many([call.item for call in batch])
                except Exception as exc:  # the statement failed for all of them
                    results = [exc] * len(batch)
                for call, result in zip(batch, results, strict=True):
                    if call.done.done():  # its caller was cancelled
                        continue
                    if isinstance(result, BaseException):
                        call.done.set_exception(result)
                    else:
                        call.done.set_result(result)
        except asyncio.CancelledError:  # the loop is closing: no caller waits for nothing
            for call in batch + self._waiting:
                call.done.cancel()
            self._waiting = []
            raise
        finally:
            self._flushing = None
