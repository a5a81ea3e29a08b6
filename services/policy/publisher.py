"""Policy's decisions onto their topic through faust's producer, one record per decision.

faust's `Topic.send` wraps each record in a promise (a `FutureMessage`), counts it in its
sensors when it is handed over and again when it is sent, and settles the promise from the
producer's answer: about a tenth of the worker's time per decision, for a promise nothing
here waits on. `Publisher` hands faust's producer the record as `Topic.send` would (the raw
key and value, no partition: the key's hash places it, no headers) and takes the answer as
faust's callback does: a failed send is logged as a warning. A commit flushes the producer
first either way, so what is committed was handed over before it. Under transactions a record
must join its input's transaction, which `Topic.send` arranges: there it is still the way.

`KeptHash` is the producer's partitioner: aiokafka's default (the Java client's murmur2 of the
key), with each key's hash kept, since the same conversations are decided again and again and
the hash, in pure Python, was a fifth of handing a record over.
"""

from __future__ import annotations

import asyncio
from typing import Any

import faust
from aiokafka.partitioner import DefaultPartitioner, murmur2

from shared import logs

log = logs.get(__name__)


class Publisher:
    def __init__(self, app: faust.App, topic: faust.TopicT) -> None:
        self._app = app
        self._channel = topic
        self._topic = topic.get_topic_name()
        self._producer: Any = None

    async def __call__(self, key: str, value: bytes) -> None:
        if self._app.in_transaction:  # the record must join the transaction of its input
            await self._channel.send(key=key.encode(), value=value)
            return
        producer = self._producer
        if producer is None:  # started once (a start is never undone: a stop is final)
            producer = self._producer = await self._app.maybe_start_producer()
        sent = await producer.send(self._topic, key.encode(), value, None, None, [])
        sent.add_done_callback(self._settled)

    def _settled(self, sent: asyncio.Future[Any]) -> None:
        if sent.cancelled():
            return
        error = sent.exception()
        if error is not None:
            log.warning("sending a record failed", topic=self._topic, error=repr(error))


class KeptHash:
    """The partition aiokafka's `DefaultPartitioner` gives a record, its key's hash kept (at
    most `keep` of them); a record without a key goes where the default sends it."""

    def __init__(self, keep: int = 65536) -> None:
        self._keep = keep
        self._hashes: dict[bytes, int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            return int(DefaultPartitioner()(key, all_partitions, available))
        hashed = self._hashes.get(key)
        if hashed is None:
            if len(self._hashes) >= self._keep:
                self._hashes.clear()
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return all_partitions[hashed % len(all_partitions)]
