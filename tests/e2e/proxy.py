"""A TCP forwarder between the services and the shared Kafka broker or PostgreSQL server, which
a test can cut (every connection through it closed, new ones refused) and restore: how the
tests model a broker or database that is down or restarting while the shared servers stay up.

A Kafka client connects to the brokers the cluster advertises, not to the address it was
given, so for Kafka the forwarder rewrites the advertised address in the answers that carry
one (Metadata, FindCoordinator) to its own: every connection then goes through it."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass, field

from tests.conftest import free_port

_ADDRESSED = frozenset({3, 10})  # api keys of Metadata and FindCoordinator answers
_OWN_HOST = b"127.0.0.1"


@dataclass
class Proxy:
    """Forwards 127.0.0.1:`port` to `upstream`; `kafka` rewrites the advertised broker."""

    upstream_host: str
    upstream_port: int
    kafka_advertised: tuple[str, int] | None = None
    port: int = field(default_factory=free_port)
    cuts: int = 0
    _server: asyncio.Server | None = None
    _writers: set[asyncio.StreamWriter] = field(default_factory=set)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @classmethod
    def to(cls, address: str, *, kafka: bool = False) -> Proxy:
        """A forwarder to `host:port`; for Kafka the broker is taken to advertise it as is."""
        host, _, port = address.rpartition(":")
        return cls(host, int(port), (host, int(port)) if kafka else None)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def is_open(self) -> bool:
        return self._server is not None

    async def open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accept, "127.0.0.1", self.port, reuse_address=True
            )

    async def cut(self) -> None:
        """Refuse new connections and close every open one, as a stopped server would."""
        self.cuts += 1
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.cut()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.upstream_host, self.upstream_port
            )
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        asked: dict[int, int] = {}  # correlation id -> api key, of this connection's requests
        if self.kafka_advertised is None:
            pumps = [_copy(reader, up_writer), _copy(up_reader, writer)]
        else:
            pumps = [_requests(reader, up_writer, asked), self._answers(up_reader, writer, asked)]
        tasks = [asyncio.create_task(pump) for pump in pumps]
        self._tasks.update(tasks)
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
                self._tasks.discard(task)
            for w in (writer, up_writer):
                w.transport.abort()
                self._writers.discard(w)

    async def _answers(
        self, up: asyncio.StreamReader, down: asyncio.StreamWriter, asked: dict[int, int]
    ) -> None:
        assert self.kafka_advertised is not None
        host, port = self.kafka_advertised
        theirs = host.encode() + struct.pack(">i", port)
        ours = _OWN_HOST + struct.pack(">i", self.port)
        if len(theirs) != len(ours):  # a rewrite must keep every length in the frame
            raise ValueError(f"advertised host {host!r} must be {len(_OWN_HOST)} characters")
        while True:
            frame = await _frame(up)
            (correlation,) = struct.unpack(">i", frame[4:8])
            if asked.pop(correlation, None) in _ADDRESSED:
                frame = frame.replace(theirs, ours)
            down.write(frame)
            await down.drain()


async def _frame(reader: asyncio.StreamReader) -> bytes:
    """One Kafka frame: its 4-byte size, then that many bytes."""
    size = await reader.readexactly(4)
    return size + await reader.readexactly(struct.unpack(">i", size)[0])


async def _requests(
    reader: asyncio.StreamReader, up: asyncio.StreamWriter, asked: dict[int, int]
) -> None:
    while True:
        frame = await _frame(reader)
        api_key, _version, correlation = struct.unpack(">hhi", frame[4:12])
        asked[correlation] = api_key
        up.write(frame)
        await up.drain()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
