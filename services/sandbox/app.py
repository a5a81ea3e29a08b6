"""Composition root of the sandbox: HTTP server (the Cloud API and control routes), webhook
sender, world state, faults."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack

import aiohttp
from prometheus_client import CollectorRegistry

from services.sandbox.catalogue import TemplateDesk
from services.sandbox.faults import FaultBoard
from services.sandbox.handlers import Sandbox
from services.sandbox.ids import Ids
from services.sandbox.metrics import SandboxMetrics
from services.sandbox.settings import SandboxSettings
from services.sandbox.web import add_graph_routes
from services.sandbox.web_common import DESK, SANDBOX, SENDER
from services.sandbox.web_control import add_control_routes
from services.sandbox.web_media import MAX_BODY, add_media_routes
from services.sandbox.webhook_sender import WebhookSender
from services.sandbox.world import World
from shared import http
from shared.events.envelope import utcnow
from shared.metrics import new_registry


def build_app(
    sandbox: Sandbox,
    sender: WebhookSender,
    readiness: http.Readiness,
    registry: CollectorRegistry | None = None,
) -> aiohttp.web.Application:
    app = http.base_app(readiness, registry or new_registry(), client_max_size=MAX_BODY)
    app[SANDBOX] = sandbox
    app[SENDER] = sender
    app[DESK] = TemplateDesk(sandbox)
    add_control_routes(app)
    add_graph_routes(app)
    add_media_routes(app)
    return app


async def run(settings: SandboxSettings, stop: asyncio.Event) -> None:
    async with AsyncExitStack() as stack:
        session = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        )
        board = FaultBoard(settings.faults, settings.seed)
        registry = new_registry()
        metrics = SandboxMetrics.create(registry)
        sender = WebhookSender(
            session,
            settings.webhook_url,
            settings.app_secret.get_secret_value(),
            settings.webhook_retry_max_s,
            board,
            metrics,
        )
        sandbox = Sandbox(
            settings, World(), sender, utcnow, Ids(settings.seed), board=board, metrics=metrics
        )
        stack.push_async_callback(sandbox.close)
        delivering = asyncio.create_task(sender.run())
        stack.callback(delivering.cancel)
        app = build_app(sandbox, sender, http.Readiness({"http": True}), registry)
        await stack.enter_async_context(http.serving(app, settings.http, "sandbox"))
        await stop.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.drained(), timeout=5)
