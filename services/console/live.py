"""Live views by server-sent events: an intent's timeline and a chat are sent again, as HTML
fragments, whenever the read model has something new for them. Every replica can serve any
view: each looks at the read model itself, at the configured interval."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from services.console import timeline
from services.console.errors import StoreUnavailable
from services.console.metrics import ConsoleMetrics
from services.console.pages import CONSOLE, intent_story
from services.console.web import fragment

HEARTBEAT_S = 15.0


@dataclass
class LiveViews:
    interval_s: float
    limit: int
    metrics: ConsoleMetrics
    open: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)

    async def close(self, _: web.Application) -> None:
        """Shutting down: end every stream now, so the server need not wait for them."""
        self.closing.set()


LIVE = web.AppKey("console_live", LiveViews)


def add_routes(app: web.Application, live: LiveViews) -> None:
    app[LIVE] = live
    app.on_shutdown.append(live.close)
    app.router.add_get("/intents/{intent_id}/live", intent_live)
    app.router.add_get("/customers/{customer_id:\\d{1,18}}/chat/{number}/live", chat_live)


def _event(html: str) -> bytes:
    lines = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
    return f"{lines}\n".encode()


async def _stream(
    request: web.Request, look: Callable[[object], Awaitable[tuple[object, str | None]]]
) -> web.StreamResponse:
    """Send the view each time `look` (given the version last sent) returns a new version
    with its HTML, until the client goes or the server shuts down."""
    live = request.app[LIVE]
    if live.open >= live.limit:
        raise web.HTTPServiceUnavailable(text="too many live views open; reload later")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
    )
    await response.prepare(request)
    live.open += 1
    live.metrics.live.inc()
    last: object = None
    quiet = 0.0
    try:
        while not live.closing.is_set():
            try:
                version, html = await look(last)
            except StoreUnavailable:
                version, html = last, None
            if version != last and html is not None:
                await response.write(_event(html))
                last, quiet = version, 0.0
            elif quiet >= HEARTBEAT_S:
                await response.write(b": still here\n\n")
                quiet = 0.0
            try:
                await asyncio.wait_for(live.closing.wait(), live.interval_s)
            except TimeoutError:
                quiet += live.interval_s
    except ConnectionResetError:
        pass
    finally:
        live.open -= 1
        live.metrics.live.dec()
    return response


async def intent_live(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    intent_id = request.match_info["intent_id"]

    async def look(last: object) -> tuple[object, str | None]:
        version = await console.queries.version(intent_id)
        if version == last:
            return version, None
        story = await intent_story(console, intent_id)
        if story is None:
            return version, None
        return version, fragment(request, "_timeline.html", **story)

    return await _stream(request, look)


async def chat_live(request: web.Request) -> web.StreamResponse:
    console = request.app[CONSOLE]
    customer_id, number = int(request.match_info["customer_id"]), request.match_info["number"]

    async def look(_: object) -> tuple[object, str | None]:
        facts = await console.queries.customer(customer_id, console.clock())
        if facts is None:
            return None, None
        messages = list(reversed(await console.queries.chat(facts["customer"]["customer"], number)))
        version = tuple((m["ref"], m["state"], m["outcome"]) for m in messages)
        html = fragment(request, "_chat.html", messages=messages, explain=timeline.explain)
        return version, html

    return await _stream(request, look)
