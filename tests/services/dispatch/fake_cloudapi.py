"""A local stand-in for the Cloud API's send endpoint (aiohttp on 127.0.0.1) for dispatch's
tests: it answers with wamids, plays scripted faults per intent, refuses tokens, enforces a
throughput limit per number the way Meta does (130429), and records every request, so a test
can say what reached Meta, in which order, when and with what body."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# ("error", code, http) | ("hang", seconds) | ("raw", http, body): that answer, taken by Meta
Fault = tuple[str, int, int] | tuple[str, float] | tuple[str, int, str]


@dataclass
class FakeCloudApi:
    number_limits: dict[str, float] = field(default_factory=dict)  # 130429 beyond, per second
    latency_s: float = 0.0
    seen: Counter[str] = field(default_factory=Counter)  # callback data -> requests
    accepted: Counter[str] = field(default_factory=Counter)  # callback data -> wamids given
    throttled: int = 0
    order: list[str] = field(default_factory=list)  # callback data in the order accepted
    arrived: dict[str, float] = field(default_factory=dict)  # callback data -> monotonic
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # the last request's body
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    tokens_refused: set[str] = field(default_factory=set)
    wamids: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    _recent: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _runner: web.AppRunner | None = None
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, callback: str, *faults: Fault) -> None:
        """Answer the next sends of `callback` with these faults, in order."""
        self.faults.setdefault(callback, []).extend(faults)

    def _over_limit(self, number: str) -> bool:
        limit = self.number_limits.get(number)
        if limit is None:
            return False
        now = time.monotonic()
        recent = self._recent[number]
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        recent.append(now)
        return len(recent) > limit

    async def _messages(self, request: web.Request) -> web.Response:
        number = request.match_info["number"]
        body: dict[str, Any] = await request.json()
        callback = str(body.get("biz_opaque_callback_data", ""))
        self.seen[callback] += 1
        self.arrived.setdefault(callback, time.monotonic())
        self.bodies[callback] = body
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.tokens_refused:
            return _error(190, 401, "Access token has expired")
        if self._over_limit(number):
            self.throttled += 1
            return _error(130429, 400, "Rate limit hit")
        script = self.faults.get(callback)
        if script:
            fault = script.pop(0)
            if fault[0] == "hang":
                await asyncio.sleep(float(fault[1]))
            elif fault[0] == "raw":  # Meta took it, and its answer says so badly
                self.accepted[callback] += 1
                return web.Response(status=int(fault[1]), text=str(fault[2]))
            else:
                return _error(int(fault[1]), int(fault[2]), "scripted")  # type: ignore[misc]
        wamid = f"wamid.FAKE{next(self._ids):08d}"
        self.accepted[callback] += 1
        self.order.append(callback)
        self.wamids[callback].append(wamid)
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body.get("to"), "wa_id": body.get("to")}],
                "messages": [{"id": wamid}],
            }
        )

    async def start(self, port: int = 0) -> FakeCloudApi:
        app = web.Application()
        app.router.add_post("/{version}/{number}/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _error(code: int, status: int, message: str) -> web.Response:
    return web.json_response(
        {
            "error": {
                "message": f"(#{code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "fake",
            }
        },
        status=status,
    )
