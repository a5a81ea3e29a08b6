"""A faust worker, bounded like policy's (`DrainingWorker`), whose one agent takes each record
for as many seconds as the record says, or never finishes one (`never`; `block`: and holds
the event loop meanwhile): the process the
tests of policy's drain send SIGTERM to. Usage: BOOTSTRAP TOPIC MARKS DATA_DIR DRAIN_S."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import faust

from services.policy.app import DrainingWorker


def main(bootstrap: str, topic: str, marks: Path, data_dir: str, drain_s: str) -> None:
    app = faust.App(
        f"{topic}-group",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        datadir=data_dir,
        web_enabled=False,
        topic_partitions=1,
        consumer_auto_offset_reset="earliest",
    )
    source = app.topic(topic, key_serializer="raw", value_serializer="raw", partitions=1)

    async def take(stream: AsyncIterator[bytes]) -> AsyncIterator[None]:
        async for value in stream:
            _mark(marks, f"took {value.decode()}")
            if value == b"never":
                await asyncio.Event().wait()
            if value == b"block":
                time.sleep(3600)  # a handler that blocks the event loop
            await asyncio.sleep(float(value))
            _mark(marks, f"done {value.decode()}")
            yield None

    app.agent(source, name="take")(take)
    worker = DrainingWorker(app, loglevel="info", quiet=True)
    worker.bound(float(drain_s), lambda: 0)
    worker.execute_from_commandline()


def _mark(marks: Path, line: str) -> None:
    with marks.open("a") as out:
        out.write(line + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4], sys.argv[5])
