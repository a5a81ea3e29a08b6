"""Composition root of the sandbox: HTTP server, webhook sender, world state."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack

import aiohttp

from services.sandbox.handlers import Sandbox
from services.sandbox.settings import SandboxSettings
from services.sandbox.web import SANDBOX, add_routes
from services.sandbox.webhooks import WebhookSender
from services.sandbox.world import World
from shared import http
from shared.events.envelope import utcnow
from shared.metrics import new_registry


async def run(settings: SandboxSettings, stop: asyncio.Event) -> None:
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        )
        sender = WebhookSender(
            session,
            settings.webhook_url,
            settings.app_secret.get_secret_value(),
            settings.webhook_retry_max_s,
        )
        sandbox = Sandbox(settings, World(), sender, utcnow)
        stack.push_async_callback(sandbox.close)
        delivering = asyncio.create_task(sender.run())
        stack.callback(delivering.cancel)
        readiness = http.Readiness({"http": True})
        app = http.base_app(readiness, new_registry())
        app[SANDBOX] = sandbox
        add_routes(app)
        await stack.enter_async_context(http.serving(app, settings.http, "sandbox"))
        await stop.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.drained(), timeout=5)
