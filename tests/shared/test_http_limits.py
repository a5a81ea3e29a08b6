"""Every service's HTTP server under slow and abusive clients: headers and bodies have a time
limit, bodies a size limit, connections a ceiling that a slow-loris cannot keep filled, and a
well-behaved request is answered all along."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from shared import http
from shared.metrics import new_registry
from shared.settings import HttpSettings
from tests.conftest import ROOT, free_port
from tests.shared.slow_clients import (
    REQUEST_HEAD,
    SlowClient,
    holding,
    idle,
    read_answer,
    slow_body,
    slow_headers,
)


class Served:
    def __init__(self, url: str, port: int, registry: CollectorRegistry) -> None:
        self.url, self.port, self.registry = url, port, registry
        self.release = asyncio.Event()

    def refused(self, reason: str) -> float:
        sample = self.registry.get_sample_value(
            "wagate_test_http_refused_total", {"reason": reason}
        )
        return sample or 0.0

    def open_connections(self) -> float:
        return self.registry.get_sample_value("wagate_test_http_open_connections") or 0.0


@asynccontextmanager
async def served(max_body: int = 1024, **limits: Any) -> AsyncIterator[Served]:
    """A small app under `limits`: POST /echo answers the body's length, /wait waits."""
    registry = new_registry()
    app = http.base_app(http.Readiness({"ok": True}), registry, client_max_size=max_body)
    port = free_port()
    state = Served("", port, registry)

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    async def wait(_: web.Request) -> web.Response:
        await state.release.wait()
        return web.Response(text="done")

    async def work(request: web.Request) -> web.Response:
        if not request.can_read_body:
            return web.Response(status=400, text="no body")
        body = await request.read()
        await asyncio.sleep(0.8)  # e.g. waiting for Kafka, longer than the body's deadline
        return web.Response(text=str(len(body)))

    app.router.add_post("/echo", echo)
    app.router.add_post("/work", work)
    app.router.add_get("/wait", wait)
    settings = HttpSettings(port=port, **limits)
    async with http.serving(app, settings, "test") as url:
        state.url = url
        yield state
        state.release.set()


async def _post(url: str, body: bytes) -> tuple[int, str, float]:
    started = time.monotonic()
    async with aiohttp.ClientSession() as session, session.post(f"{url}/echo", data=body) as resp:
        return resp.status, await resp.text(), time.monotonic() - started


async def test_a_request_is_answered_and_its_body_read_by_the_handler() -> None:
    async with served() as s:
        assert (await _post(s.url, b'{"a": 1}'))[:2] == (200, "8")
        async with aiohttp.ClientSession() as session:
            for _ in range(3):  # one keep-alive connection, several requests
                async with session.post(f"{s.url}/echo", data=b"xy") as resp:
                    assert (resp.status, await resp.text()) == (200, "2")
        assert s.refused("header_timeout") == 0


@pytest.mark.parametrize("client", [slow_headers, idle])
async def test_headers_not_finished_in_time_are_answered_408_and_closed(client: Any) -> None:
    async with served(header_timeout_s=0.5) as s:
        started = time.monotonic()
        (slow,) = [client(s.port, 3.0)] if client is idle else [client(s.port, 0.02, 150)]
        await slow.run()
        elapsed = time.monotonic() - started

    assert slow.answer.startswith(b"HTTP/1.1 408 Request Timeout")
    assert slow.closed_by_server
    assert elapsed < 2.5
    assert s.refused("header_timeout") == 1


async def test_trickling_bytes_does_not_reset_the_header_clock() -> None:
    async with served(header_timeout_s=0.6) as s:
        slow = slow_headers(s.port, interval=0.1, steps=60)  # 6 s if never cut
        started = time.monotonic()
        await slow.run()

    assert slow.closed_by_server and slow.answer.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - started < 2.0


async def test_the_next_request_on_a_kept_alive_connection_has_its_own_header_clock() -> None:
    async with served(header_timeout_s=0.5, keepalive_timeout_s=10) as s:
        reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
        writer.write(REQUEST_HEAD.replace(b"/webhook", b"/echo") + b"Content-Length: 2\r\n\r\nxy")
        first = await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(0.8)  # idle keep-alive: not a slow request
        writer.write(b"POST /ec")  # a second request that never finishes its headers
        answer = await read_answer(reader, 2.0)
        writer.close()

    assert first.startswith(b"HTTP/1.1 200")
    assert b"HTTP/1.1 408" in answer
    assert s.refused("header_timeout") == 1


async def test_a_body_not_received_in_time_is_408() -> None:
    async with served(max_body=10_000, body_timeout_s=0.5) as s:
        slow = slow_body(s.port, interval=0.05, steps=200, path=b"/echo")
        started = time.monotonic()
        await slow.run()

    assert slow.answer.startswith(b"HTTP/1.1 408")
    assert slow.answer.endswith(b"request body too slow")
    assert slow.closed_by_server
    assert time.monotonic() - started < 3.5
    assert s.refused("body_timeout") == 1


async def test_a_body_too_large_is_413_declared_or_chunked() -> None:
    async with served(max_body=100) as s:
        reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
        head = REQUEST_HEAD.replace(b"/webhook", b"/echo")
        writer.write(head + b"Content-Length: 100000000\r\n\r\n")  # and no body sent at all
        declared = await read_answer(reader, 3.0)
        writer.close()

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(10):
                yield b"x" * 50

        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{s.url}/echo", data=chunks()) as resp,
        ):
            chunked = resp.status

    assert declared.startswith(b"HTTP/1.1 413")
    assert chunked == 413
    assert s.refused("too_large") == 2


async def test_an_idle_kept_alive_connection_is_closed() -> None:
    async with served(keepalive_timeout_s=0.3, header_timeout_s=30) as s:
        reader, writer = await asyncio.open_connection("127.0.0.1", s.port)
        writer.write(REQUEST_HEAD.replace(b"/webhook", b"/echo") + b"Content-Length: 2\r\n\r\nxy")
        started = time.monotonic()
        answer = await read_answer(reader, 5.0)
        writer.close()

    assert answer.startswith(b"HTTP/1.1 200")
    assert reader.at_eof() and time.monotonic() - started < 2.0


async def test_past_the_ceiling_the_longest_waiting_connection_makes_room() -> None:
    async with served(max_connections=10, header_timeout_s=30) as s:
        slow = [slow_headers(s.port, interval=0.05, steps=100) for _ in range(15)]
        slow += [idle(s.port, 5.0) for _ in range(15)]
        async with holding(slow):
            await asyncio.sleep(0.5)
            status, text, seconds = await _post(s.url, b"{}")
            assert s.open_connections() <= 10

    assert (status, text) == (200, "2")
    assert seconds < 1.0
    assert s.refused("no_room") >= 20


async def test_when_every_connection_is_being_answered_a_newcomer_gets_503() -> None:
    async with served(max_connections=2) as s, aiohttp.ClientSession() as session:
        busy = [asyncio.create_task(session.get(f"{s.url}/wait")) for _ in range(2)]
        await asyncio.sleep(0.3)
        newcomer = SlowClient(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"")
        await newcomer.run()
        s.release.set()
        for task in busy:
            async with await task as resp:
                assert (resp.status, await resp.text()) == (200, "done")

    assert newcomer.answer.startswith(b"HTTP/1.1 503 Service Unavailable")
    assert b"Retry-After: 1" in newcomer.answer
    assert s.refused("no_room") == 1


async def test_the_body_deadline_is_for_receiving_it_not_for_the_work_after() -> None:
    async with (
        served(body_timeout_s=0.3) as s,
        aiohttp.ClientSession() as session,
        session.post(f"{s.url}/work", data=b"0123456789") as resp,
    ):
        assert (resp.status, await resp.text()) == (200, "10")
    assert s.refused("body_timeout") == 0


async def test_bodies_default_to_one_mebibyte_and_headers_keep_aiohttps_limit() -> None:
    registry = new_registry()
    app = http.base_app(http.Readiness({"ok": True}), registry)

    async def echo(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    app.router.add_post("/echo", echo)
    port = free_port()
    async with (
        http.serving(app, HttpSettings(port=port), "test") as url,
        aiohttp.ClientSession() as session,
    ):
        async with session.post(f"{url}/echo", data=io.BytesIO(b"x" * 1024**2)) as resp:
            fits = resp.status
        async with session.post(f"{url}/echo", data=io.BytesIO(b"x" * (1024**2 + 1))) as resp:
            over = resp.status
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
        big_header = await read_answer(reader, 3.0)
        writer.close()

    assert (fits, over) == (200, 413)
    assert big_header[9:10] == b"4", big_header[:40]


def test_limits_have_sensible_defaults_and_refuse_nonsense() -> None:
    limits = HttpSettings()
    assert (limits.header_timeout_s, limits.body_timeout_s, limits.keepalive_timeout_s) == (
        10.0,
        30.0,
        15.0,
    )
    assert limits.max_connections == 1024
    with pytest.raises(ValueError, match="max_connections"):
        HttpSettings(max_connections=0)
    with pytest.raises(ValueError, match="header_timeout_s"):
        HttpSettings(header_timeout_s=0)


@pytest.mark.parametrize("service", ["ingest", "templates", "dispatch", "sandbox"])
def test_every_service_with_a_port_serves_under_these_limits(service: str) -> None:
    source = (ROOT / "services" / service / "app.py").read_text()
    assert "http.serving(" in source and "web.AppRunner" not in source
