"""aiohttp plumbing shared by every service: health, readiness and metrics routes, a site
started and stopped inside the service's exit stack, under limits that keep slow and abusive
clients from holding it (header and body read time, connections open at once), and the reading
of a request's JSON body under `shared.strict_json`'s rules.

aiohttp bounds header sizes and idle keep-alive time but not the time a client takes to send
its headers or body, nor how many connections it holds, so `ConnectionGuard` does that: it
sits between the listening socket and aiohttp's protocol, and one middleware tells it when a
request's headers are complete and gives the body a deadline.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)

from shared import logs
from shared.settings import HttpSettings
from shared.strict_json import BadInput, parse_object

log = logs.get(__name__)
_LINGER_S = 1.0  # aiohttp drains an unread body for 10 s by default: a slow client would stay
_HEADERS_TIMED_OUT = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)
_NO_ROOM = (
    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n"
    b"Content-Length: 0\r\n\r\n"
)


@dataclass
class Readiness:
    """Named conditions that must all hold before the service takes traffic."""

    checks: dict[str, bool] = field(default_factory=dict)

    def set(self, name: str, ok: bool) -> None:
        self.checks[name] = ok

    @property
    def ready(self) -> bool:
        return bool(self.checks) and all(self.checks.values())


READINESS = web.AppKey("readiness", Readiness)
REGISTRY = web.AppKey("registry", CollectorRegistry)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def _healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _readyz(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    status = 200 if readiness.ready else 503
    return web.json_response({"ready": readiness.ready, "checks": readiness.checks}, status=status)


async def _metrics(request: web.Request) -> web.Response:
    body = generate_latest(request.app[REGISTRY])
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def base_app(
    readiness: Readiness, registry: CollectorRegistry, client_max_size: int = 1024**2
) -> web.Application:
    app = web.Application(client_max_size=client_max_size)
    app[READINESS] = readiness
    app[REGISTRY] = registry
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    return app


async def json_object(
    request: web.Request, *, plain_text: bool = True, max_size: int | None = None
) -> dict[str, Any]:
    """The request's body as a JSON object, read strictly (`strict_json.parse_object`);
    raises BadInput 413 past the application's `client_max_size`, or past `max_size` where an
    application that takes larger bodies elsewhere (media uploads) keeps its JSON smaller."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise BadInput(413, f"the body is larger than {request.client_max_size} bytes") from exc
    if max_size is not None and len(raw) > max_size:
        raise BadInput(413, f"the body is larger than {max_size} bytes")
    return parse_object(raw, plain_text=plain_text)


@dataclass(eq=False)
class _Connection:
    """One client connection: since when it waits for a request, and whether one is answered."""

    transport: asyncio.BaseTransport
    since: float
    busy: bool = False
    refused: bool = False  # its request was refused: what it still sends is no new request
    timer: asyncio.TimerHandle | None = None

    def stop_clock(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class ConnectionGuard:
    """Bounds what clients hold of one listening socket: a connection has `header_timeout_s`
    to finish its request's headers, a request `body_timeout_s` for its body, and at most
    `max_connections` are open at once, room being made by closing the connection that has
    waited longest without a request (a slow-loris fills the room, it cannot keep it)."""

    def __init__(self, settings: HttpSettings, registry: CollectorRegistry, service: str) -> None:
        self._settings = settings
        self._open: dict[asyncio.BaseTransport, _Connection] = {}
        self.refused = Counter(
            f"wagate_{service}_http_refused_total",
            "HTTP connections and requests refused by the server's limits, by reason"
            " (header_timeout, body_timeout, too_large, no_room).",
            ["reason"],
            registry=registry,
        )
        self._gauge = Gauge(
            f"wagate_{service}_http_open_connections",
            "HTTP connections open now.",
            registry=registry,
        )

    def protocols(self, make: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory for `loop.create_server`: `make()`'s protocols, watched."""
        return lambda: _Watched(make(), self)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def opened(self, transport: asyncio.BaseTransport) -> None:
        conn = _Connection(transport, asyncio.get_running_loop().time())
        self._open[transport] = conn
        self._gauge.set(len(self._open))
        self._start_clock(conn)
        if len(self._open) > self._settings.max_connections:
            self._make_room(conn)

    def heard(self, transport: asyncio.BaseTransport) -> None:
        """Bytes came: on an idle keep-alive connection they start a request's header clock."""
        conn = self._open.get(transport)
        if conn is not None and not (conn.busy or conn.refused) and conn.timer is None:
            conn.since = asyncio.get_running_loop().time()
            self._start_clock(conn)

    async def idle(self, within_s: float) -> None:
        """Wait (at most `within_s`) until no request is being answered: one whose body is still
        coming must have it all, since aiohttp's shutdown stops reading every connection."""
        deadline = asyncio.get_running_loop().time() + within_s
        while any(c.busy for c in self._open.values()):
            if asyncio.get_running_loop().time() >= deadline:
                return
            await asyncio.sleep(0.05)

    def closed(self, transport: asyncio.BaseTransport) -> None:
        conn = self._open.pop(transport, None)
        if conn is not None:
            conn.stop_clock()
        self._gauge.set(len(self._open))

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The request's headers are in: stop their clock, refuse a body declared too large,
        and answer 408 if the body has not fully arrived `body_timeout_s` after the headers."""
        conn = self._open.get(request.transport) if request.transport is not None else None
        if conn is not None:
            conn.busy = True
            conn.stop_clock()
        try:
            return await self._answer(request, handler, conn)
        finally:
            if conn is not None:
                conn.busy = False
                conn.since = asyncio.get_running_loop().time()

    async def _answer(
        self, request: web.Request, handler: Handler, conn: _Connection | None
    ) -> web.StreamResponse:
        declared = request.content_length
        if declared is not None and declared > request.client_max_size:
            self._refused(conn, "too_large")
            raise web.HTTPRequestEntityTooLarge(
                max_size=request.client_max_size, actual_size=declared
            )
        task = asyncio.current_task()
        late: list[bool] = []

        def body_late() -> None:
            # The whole body is in once aiohttp's parser fed its end; the handler may still be
            # busy with it, which is not the client's slowness.
            if not request.content.is_eof() and task is not None:
                late.append(True)
                task.cancel()

        timer = asyncio.get_running_loop().call_later(self._settings.body_timeout_s, body_late)
        try:
            return await handler(request)
        except asyncio.CancelledError:
            if not late or task is None or task.uncancel() > 0:
                raise
            self._refused(conn, "body_timeout")
            slow = web.Response(status=408, text="request body too slow")
            slow.force_close()
            return slow
        except web.HTTPRequestEntityTooLarge:
            self._refused(conn, "too_large")
            raise
        finally:
            timer.cancel()

    def _refused(self, conn: _Connection | None, reason: str) -> None:
        self.refused.labels(reason).inc()
        if conn is not None:
            conn.refused = True

    def _start_clock(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_later(self._settings.header_timeout_s, self._headers_late, conn)

    def _headers_late(self, conn: _Connection) -> None:
        conn.timer = None
        if not conn.busy and conn.transport in self._open:
            self._close(conn, _HEADERS_TIMED_OUT, "header_timeout")

    def _make_room(self, newcomer: _Connection) -> None:
        idle = [c for c in self._open.values() if not c.busy and c is not newcomer]
        if not idle:
            self._close(newcomer, _NO_ROOM, "no_room")
            return
        oldest = min(idle, key=lambda c: c.since)
        # A connection mid-headers is told why; an idle keep-alive one is simply closed.
        self._close(oldest, _HEADERS_TIMED_OUT if oldest.timer else b"", "no_room")

    def _close(self, conn: _Connection, answer: bytes, reason: str) -> None:
        conn.stop_clock()
        transport = conn.transport
        self._open.pop(transport, None)  # closing: no longer holds a place
        self._gauge.set(len(self._open))
        if answer and isinstance(transport, asyncio.WriteTransport):
            transport.write(answer)
        transport.close()
        self.refused.labels(reason).inc()


class _Watched(asyncio.Protocol):
    """aiohttp's protocol for one connection, with the guard told of its life."""

    def __init__(self, inner: asyncio.Protocol, guard: ConnectionGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._inner.connection_made(transport)
        self._guard.opened(transport)

    def data_received(self, data: bytes) -> None:
        if self._transport is not None:
            self._guard.heard(self._transport)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._transport is not None:
            self._guard.closed(self._transport)
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


@asynccontextmanager
async def serving(app: web.Application, settings: HttpSettings, name: str) -> AsyncIterator[str]:
    """Serve `app` under `settings`' limits until the block exits; yields the URL it listens on."""
    guard = ConnectionGuard(settings, app[REGISTRY], name)
    app.middlewares.append(guard.middleware)
    runner = web.AppRunner(
        app,
        access_log=None,
        keepalive_timeout=settings.keepalive_timeout_s,
        lingering_time=_LINGER_S,
    )
    await runner.setup()
    server = runner.server
    assert server is not None  # set by setup()
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(
        guard.protocols(server), settings.host, settings.port, reuse_address=True
    )
    url = f"http://{settings.host}:{settings.port}"
    log.info("listening", part=name, url=url)
    try:
        yield url
    finally:
        listener.close()  # no new connection; the requests being answered are finished first
        await guard.idle(settings.body_timeout_s)
        await runner.cleanup()
        await listener.wait_closed()


async def _not_yet(_: web.Request) -> web.Response:
    return web.Response(
        status=503, text="starting: waiting for a dependency", headers={"Retry-After": "1"}
    )


@asynccontextmanager
async def starting(readiness: Readiness, settings: HttpSettings, name: str) -> AsyncIterator[str]:
    """While a service waits for its broker or database: /healthz, /readyz (503, with the
    checks still false) and 503 with Retry-After to every other request (Meta redelivers a
    webhook answered so), until the block exits and the service's own app takes the port."""
    app = base_app(readiness, CollectorRegistry())
    app.router.add_route("*", "/{tail:.*}", _not_yet)
    async with serving(app, settings, f"{name} (starting)") as url:
        yield url
