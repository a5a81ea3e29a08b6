"""Policy's HTTP pages, served by the faust worker: health, readiness, metrics, and what this
worker holds about one conversation (`/windows/...`, `/consent/...`), and each portfolio's
messaging limit (`/accounts`, a global table: every worker holds all of it)."""

from __future__ import annotations

from typing import Any

import faust
from prometheus_client import CollectorRegistry, generate_latest

from services.policy.handlers import PolicyHandlers
from shared.http import Readiness

# the exposition format without its charset, which faust's aiohttp driver refuses
_PROMETHEUS_TEXT = "text/plain; version=0.0.4"


def add_routes(
    app: faust.App,
    registry: CollectorRegistry,
    handlers: PolicyHandlers,
    loops: Readiness | None = None,
) -> None:
    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        ready = deciding(app) and (loops is None or loops.ready)  # a timer gave up: not ready
        return web.json({"ready": ready}, status=200 if ready else 503)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return web.bytes(generate_latest(registry), content_type=_PROMETHEUS_TEXT)

    @app.page("/windows/{phone_number_id}/{wa_id}")
    async def window(web: Any, request: Any, phone_number_id: str, wa_id: str) -> Any:
        return web.json(handlers.window_view(phone_number_id, wa_id))

    @app.page("/accounts")
    async def accounts(web: Any, request: Any) -> Any:
        return web.json({"portfolios": handlers.accounts.view()})

    @app.page("/consent/{phone_number_id}/{wa_id}")
    async def consent(web: Any, request: Any, phone_number_id: str, wa_id: str) -> Any:
        return web.json(handlers.consent_view(phone_number_id, wa_id))


def deciding(app: Any) -> bool:
    """The worker holds partitions, is not rebalancing, and its tables are recovered from
    their changelogs: an intent decided before then could miss a window, an opt-out or a
    template's pause that the changelog holds."""
    recovery = app.tables.recovery
    return (
        bool(app.consumer.assignment())
        and not app.rebalancing
        and recovery.completed.is_set()
        and not app.in_recovery
    )
