"""aiohttp plumbing shared by every service: health, readiness and metrics routes, and a
site started and stopped inside the service's exit stack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from shared import logs
from shared.settings import HttpSettings

log = logs.get(__name__)


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


@asynccontextmanager
async def serving(app: web.Application, settings: HttpSettings, name: str) -> AsyncIterator[str]:
    """Serve `app` until the block exits; yields the URL it listens on."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    url = f"http://{settings.host}:{settings.port}"
    log.info("listening", part=name, url=url)
    try:
        yield url
    finally:
        await runner.cleanup()
