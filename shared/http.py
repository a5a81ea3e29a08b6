"""aiohttp plumbing shared by every service: health, readiness and metrics routes, a site
started and stopped inside the service's exit stack, and the strict reading of a JSON body and
of path and query values that every API door applies before a handler looks at them."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from shared import logs
from shared.errors import PermanentError
from shared.settings import HttpSettings

log = logs.get(__name__)
MAX_DEPTH = 32
"""How deep a JSON body may nest: what wagate's APIs take nests under 10 levels."""
_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")  # keys an error message repeats as they are


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


class BadInput(PermanentError):
    """A request refused before any handler looks at it: `status` 400 or 413, and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def json_object(request: web.Request, *, plain_text: bool = True) -> dict[str, Any]:
    """The request's body as a JSON object, read strictly (see `parse_object`); raises
    BadInput 413 past the application's `client_max_size`."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise BadInput(413, f"the body is larger than {request.client_max_size} bytes") from exc
    return parse_object(raw, plain_text=plain_text)


def parse_object(raw: bytes, *, plain_text: bool = True) -> dict[str, Any]:
    """`raw` as a JSON object, or BadInput 400 saying why not: not UTF-8, not JSON (NaN and
    Infinity are not), a number too long to read, deeper than MAX_DEPTH, not an object, or
    (with `plain_text`) a string or key holding a NUL or an unpaired surrogate, which no
    database column or UTF-8 consumer can keep."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(400, f"the body is not UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise BadInput(400, f"the body is not JSON: {exc}") from exc
    except ValueError as exc:  # a non-standard constant, or a number of over 4300 digits
        raise BadInput(400, f"the body is not standard JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadInput(400, f"the body nests deeper than {MAX_DEPTH} levels") from exc
    if not isinstance(value, dict):
        raise BadInput(400, "the body must be a JSON object")
    problem = _unfit(value, plain_text)
    if problem is not None:
        raise BadInput(400, problem)
    return value


def unsafe_value(values: Iterable[tuple[str, str]]) -> str | None:
    """The name of the first (name, value) whose value holds a control character (CR, LF,
    NUL...) or an unpaired surrogate: no identifier, name or filter wagate knows has one."""
    for name, value in values:
        if not _CONTROL.isdisjoint(value) or not _encodes(value):
            return name
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unfit(value: object, plain_text: bool) -> str | None:
    """Why a parsed body is refused (the first problem, with its path), or None."""
    stack: list[tuple[object, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{path} nests deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            for key, child in item.items():
                if plain_text and not _plain(key):
                    return f"a key in {path} holds a NUL or an unpaired surrogate"
                stack.append(
                    (child, f"{path}.{key if _SHOWN_KEY.fullmatch(key) else '?'}", depth + 1)
                )
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif plain_text and isinstance(item, str) and not _plain(item):
            return f"{path} holds a NUL or an unpaired surrogate"
    return None


def _plain(text: str) -> bool:
    return "\x00" not in text and _encodes(text)
