"""Raw-socket clients that misbehave on purpose (slow headers, slow bodies, idle connections),
bounded in count and time, for the HTTP-limit tests of every service."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
from prometheus_client import CollectorRegistry

REQUEST_HEAD = b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


async def read_answer(reader: asyncio.StreamReader, timeout: float) -> bytes:
    """What the server writes within `timeout` or before it closes the connection."""
    answer = b""
    with contextlib.suppress(TimeoutError, ConnectionError):
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                answer += chunk
    return answer


@dataclass
class SlowClient:
    """One connection that sends `at_once`, then `trickled` a byte every `interval` (at most
    `steps` bytes), then listens `linger` seconds; `answer` is what the server wrote and
    `closed_by_server` whether it hung up."""

    port: int
    at_once: bytes
    trickled: bytes
    interval: float = 0.05
    steps: int = 400
    linger: float = 0.2
    answer: bytes = b""
    closed_by_server: bool = False
    _writer: asyncio.StreamWriter | None = field(default=None, repr=False)

    async def run(self) -> None:
        reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        listening = asyncio.create_task(self._listen(reader))
        try:
            await self._send(listening)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(listening), self.linger)
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
            self.close()

    async def _send(self, listening: asyncio.Task[None]) -> None:
        assert self._writer is not None
        try:
            self._writer.write(self.at_once)
            for i in range(min(self.steps, len(self.trickled))):
                if listening.done():
                    return
                self._writer.write(self.trickled[i : i + 1])
                await self._writer.drain()
                await asyncio.sleep(self.interval)
        except ConnectionError:
            return

    async def _listen(self, reader: asyncio.StreamReader) -> None:
        try:
            while chunk := await reader.read(65536):
                self.answer += chunk
        except ConnectionError:
            pass
        self.closed_by_server = True

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def slow_headers(port: int, interval: float = 0.05, steps: int = 400) -> SlowClient:
    """Headers a byte at a time, never finished within the client's steps."""
    head = REQUEST_HEAD + b"X-Padding: " + b"a" * 4000 + b"\r\n\r\n"
    return SlowClient(port, b"", head, interval, steps)


def slow_body(
    port: int,
    interval: float = 0.05,
    steps: int = 400,
    path: bytes = b"/webhook",
    headers: bytes = b"",
) -> SlowClient:
    """Complete headers at once (`headers` among them: lines ending in CRLF), then a declared
    body a byte at a time."""
    head = REQUEST_HEAD.replace(b"/webhook", path) + headers + b"Content-Length: 5000\r\n\r\n"
    return SlowClient(port, head, b"{" + b" " * 4999, interval, steps)


def idle(port: int, seconds: float) -> SlowClient:
    """A connection that sends nothing."""
    return SlowClient(port, b"", b"", steps=0, linger=seconds)


@asynccontextmanager
async def holding(clients: list[SlowClient]) -> AsyncIterator[list[SlowClient]]:
    """Run `clients` in the background while the block runs; stop and close them after."""
    tasks = [asyncio.create_task(c.run()) for c in clients]
    try:
        yield clients
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await task
        for client in clients:
            client.close()


async def settled(registry: CollectorRegistry, service: str, expected: int) -> None:
    """Wait (bounded) until `service`'s server holds `expected` connections open."""
    deadline = time.monotonic() + 10
    held = 0.0
    while time.monotonic() < deadline:
        held = registry.get_sample_value(f"wagate_{service}_http_open_connections") or 0
        if held >= expected:
            return
        await asyncio.sleep(0.05)
    pytest.fail(f"only {held} of {expected} slow connections open")
