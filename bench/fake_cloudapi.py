"""The benchmark's Cloud API: the send-message endpoint as a load target (aiohttp on
127.0.0.1), served in a process of its own or in the benchmark's.

It answers every send with a wamid, or with Meta's 130429 once the number had `mps_limit`
sends within the last second, and counts what `GET /stats` shows: sends accepted, throttled,
and intents accepted more than once. It keeps nothing else (no bodies, no order, no scripted
faults, which the tests' double has), so serving it costs as little as it can beside what is
measured.

`python -m bench.fake_cloudapi PORT [MPS_LIMIT]` serves it until interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
import time
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

THROTTLED = {"error": {"code": 130429, "message": "(#130429) Rate limit hit"}}


@dataclass
class LoadTarget:
    mps_limit: float | None = None
    accepted: Counter[str] = field(default_factory=Counter)  # callback data -> wamids given
    throttled: int = 0
    _last_second: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))
    _wamids: itertools.count[int] = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{number}/messages", self._send)
        app.router.add_get("/stats", self._stats)
        return app

    def _throttles(self, number: str) -> bool:
        """Whether this send is one more than the number's limit in the last second."""
        if self.mps_limit is None:
            return False
        now = time.monotonic()
        sends = self._last_second[number]
        sends.append(now)
        while sends[0] <= now - 1.0:
            sends.popleft()
        return len(sends) > self.mps_limit

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self._throttles(request.match_info["number"]):
            self.throttled += 1
            return web.json_response(THROTTLED, status=400)
        self.accepted[str(body.get("biz_opaque_callback_data", ""))] += 1
        to, wamid = body.get("to"), f"wamid.BENCH{next(self._wamids):08d}"
        contact = {"input": to, "wa_id": to}
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [contact], "messages": [{"id": wamid}]}
        )

    async def _stats(self, _: web.Request) -> web.Response:
        return web.json_response(
            {
                "accepted": self.accepted.total(),
                "throttled": self.throttled,
                "duplicates": sum(1 for n in self.accepted.values() if n > 1),
            }
        )


@asynccontextmanager
async def serving(port: int, mps_limit: float | None) -> AsyncIterator[str]:
    """Serve a fresh target on `port` until the block exits; yields its base URL."""
    runner = web.AppRunner(LoadTarget(mps_limit).app(), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _serve(port: int, mps_limit: float | None) -> None:
    async with serving(port, mps_limit) as url:
        print(f"fake Cloud API on {url}", flush=True)
        await asyncio.Event().wait()


def main() -> None:
    limit = float(sys.argv[2]) if len(sys.argv) > 2 else None
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(int(sys.argv[1]), limit))


if __name__ == "__main__":
    main()
