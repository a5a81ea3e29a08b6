"""Composition root of templates: pool and migrations, HTTP server."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from pathlib import Path

from services.templates.settings import TemplatesSettings
from shared import db, http
from shared.metrics import new_registry

MIGRATIONS = Path(__file__).with_name("migrations")


async def run(settings: TemplatesSettings, stop: asyncio.Event) -> None:
    registry = new_registry()
    readiness = http.Readiness({"postgres": False})
    async with AsyncExitStack() as stack:
        pool = await db.create_pool(settings.postgres)
        stack.push_async_callback(pool.close)
        await db.migrate(pool, "templates", MIGRATIONS)
        readiness.set("postgres", True)
        app = http.base_app(readiness, registry)
        await stack.enter_async_context(http.serving(app, settings.http, "templates"))
        await stop.wait()
