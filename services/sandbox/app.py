"""Composition root of the sandbox: HTTP server (the Cloud API and control routes), webhook
sender, world state, faults."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AsyncExitStack
from functools import partial

import aiohttp
from prometheus_client import CollectorRegistry

from services.sandbox import persistence
from services.sandbox.catalogue import TemplateDesk
from services.sandbox.faults import FaultBoard
from services.sandbox.handlers import Sandbox
from services.sandbox.ids import Ids
from services.sandbox.metrics import SandboxMetrics
from services.sandbox.settings import SandboxSettings
from services.sandbox.web import add_graph_routes
from services.sandbox.web_accounts import add_account_routes
from services.sandbox.web_common import DESK, SANDBOX, SENDER
from services.sandbox.web_control import add_control_routes
from services.sandbox.web_media import MAX_BODY, add_media_routes
from services.sandbox.webhook_sender import WebhookSender
from shared import http
from shared.events.envelope import utcnow
from shared.metrics import new_registry
from shared.supervise import Supervisor, until_stopped_or_gave_up


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
    add_account_routes(app)
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
            settings.webhook_posters,
        )
        state = settings.state_file
        kept = persistence.load(state) if state is not None else persistence.Snapshot()
        world = kept.world
        sender.restore(kept.webhooks)
        sandbox = Sandbox(
            settings,
            world,
            sender,
            utcnow,
            Ids(settings.seed),
            board=board,
            metrics=metrics,
            media=kept.media,
        )
        stack.push_async_callback(sandbox.close)
        readiness = http.Readiness({"http": True})
        supervisor = Supervisor("sandbox", registry, readiness)
        stack.push_async_callback(supervisor.close)
        supervisor.spawn("webhooks", sender.run)
        if state is not None:

            def take() -> persistence.Snapshot:
                return persistence.Snapshot(
                    world, sender.undelivered(), sandbox.media.forget_expired()
                )

            stack.callback(lambda: persistence.save(take(), state))  # on the way out, once more
            supervisor.spawn("state", partial(persistence.save_every, take, state,
                                              settings.state_save_s))  # fmt: skip
        app = build_app(sandbox, sender, readiness, registry)
        await stack.enter_async_context(http.serving(app, settings.http, "sandbox"))
        await until_stopped_or_gave_up(stop, supervisor)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sender.drained(), timeout=5)
    supervisor.check()
