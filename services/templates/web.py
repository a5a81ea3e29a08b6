"""Templates' HTTP API (JSON, bearer API keys), described by the OpenAPI document it serves.
Hostile input is refused before a handler runs: a path or query value with a control character
or a WABA id that is not digits (400 INVALID_PATH, INVALID_QUERY), a body that is not strict
JSON or holds a NUL (400 INVALID_JSON), a body too large (413 TOO_LARGE); every refusal, and
every path or method that matches no route, is a JSON problem."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web
from aiokafka.errors import KafkaError
from pydantic import SecretStr

from services.templates import openapi, sync
from services.templates.errors import (
    CloudApiUnavailable,
    MetaApiError,
    NotFound,
    StoreUnavailable,
    TemplateExists,
    WrongState,
)
from services.templates.handlers import Registry
from services.templates.records import Key, TemplateRecord
from services.templates.rules import validation
from services.templates.rules.issues import Verdict
from services.templates.rules.render import render
from services.templates.store import FILTERS
from shared import http, logs, strict_json

log = logs.get(__name__)
REGISTRY = web.AppKey("templates_registry", Registry)
API_KEYS = web.AppKey("templates_api_keys", tuple)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MAX_PAGE = 500
MAX_OFFSET = 10**9


def add_routes(app: web.Application, registry: Registry, api_keys: Sequence[SecretStr]) -> None:
    app[REGISTRY] = registry
    app[API_KEYS] = tuple(k.get_secret_value().encode() for k in api_keys)
    app.middlewares.append(_guard)
    r = app.router
    r.add_get("/openapi.json", _openapi)
    r.add_post("/v1/templates/validate", _validate)
    r.add_post("/v1/templates", _create)
    r.add_get("/v1/templates", _list)
    r.add_post("/v1/templates/{waba_id}/{name}/translations", _translate)
    r.add_put("/v1/templates/{waba_id}/{name}/fallbacks", _fallbacks)
    r.add_delete("/v1/templates/{waba_id}/{name}", _delete)
    r.add_get("/v1/templates/{waba_id}/{name}/{language}", _get)
    r.add_patch("/v1/templates/{waba_id}/{name}/{language}", _edit)
    r.add_get("/v1/templates/{waba_id}/{name}/{language}/history", _history)
    r.add_post("/v1/templates/{waba_id}/{name}/{language}/preview", _preview)
    r.add_post("/v1/templates/{waba_id}/{name}/{language}/submit", _submit)
    r.add_post("/v1/templates/{waba_id}/{name}/{language}/unpause", _unpause)
    r.add_post("/v1/sync/{waba_id}", _sync)


def _problem(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _refused(verdict: Verdict) -> web.Response:
    return web.json_response(verdict.as_dict(), status=422)


def _stored_or_refused(
    record: TemplateRecord | None, verdict: Verdict, status: int = 200
) -> web.Response:
    """The template a request stored, or 422 with the rules it broke."""
    if record is None:
        return _refused(verdict)
    return web.json_response(record.as_api(), status=status)


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    refused = _refused_at_the_door(request) if request.path.startswith("/v1/") else None
    if refused is not None:
        return refused
    try:
        return await handler(request)
    except strict_json.BadInput as exc:
        code = "TOO_LARGE" if exc.status == 413 else "INVALID_JSON"
        return _problem(exc.status, code, str(exc))
    except web.HTTPException as exc:  # aiohttp's own (unknown path, method): a problem too
        if exc.status < 400:
            raise
        return _as_problem(exc)
    except NotFound as exc:
        return _problem(404, "NOT_FOUND", str(exc))
    except TemplateExists as exc:
        return _problem(409, "ALREADY_EXISTS", str(exc))
    except WrongState as exc:
        return _problem(409, "WRONG_STATUS", str(exc))
    except MetaApiError as exc:
        return _problem(502, "CLOUD_API_REFUSED", str(exc))
    except (CloudApiUnavailable, StoreUnavailable, KafkaError) as exc:
        log.warning("dependency unavailable", path=request.path, reason=str(exc))
        return _problem(503, "UNAVAILABLE", "a dependency is unavailable; retry later")


def _refused_at_the_door(request: web.Request) -> web.Response | None:
    """401 without a valid API key; 400 for a path or query value holding a control
    character: no WABA id, template name, language or filter has one, and such a name must
    never reach a header, a log line or SQL."""
    given = request.headers.get("Authorization", "")
    token = given[7:].encode() if given.startswith("Bearer ") else b""
    if not any(hmac.compare_digest(token, key) for key in request.app[API_KEYS]):
        response = _problem(401, "UNAUTHORIZED", "a valid API key is required (Bearer)")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    name = strict_json.unsafe_value(request.match_info.items())
    if name is not None:
        return _problem(400, "INVALID_PATH", f"{name} holds a control character")
    if "waba_id" in request.match_info and not _is_waba_id(request.match_info["waba_id"]):
        # it becomes part of the Cloud API's URL path: digits only, never `/` or `..`
        return _problem(400, "INVALID_PATH", "waba_id is digits (0-9)")
    if strict_json.unsafe_value(request.query.items()) is not None:
        return _problem(400, "INVALID_QUERY", "a query value holds a control character")
    return None


def _is_waba_id(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _as_problem(exc: web.HTTPException) -> web.Response:
    problem = _problem(exc.status, exc.reason.upper().replace(" ", "_"), exc.reason)
    if "Allow" in exc.headers:
        problem.headers["Allow"] = exc.headers["Allow"]
    return problem


async def _json(request: web.Request) -> dict[str, Any]:
    return await http.json_object(request)


def _key(request: web.Request) -> Key:
    m = request.match_info
    return Key(m["waba_id"], m["name"], m["language"])


async def _openapi(_: web.Request) -> web.Response:
    return web.json_response(openapi.DOCUMENT)


async def _validate(request: web.Request) -> web.Response:
    verdict = validation.check(await _json(request))
    return web.json_response({"valid": verdict.ok, **verdict.as_dict()})


async def _create(request: web.Request) -> web.Response:
    body = await _json(request)
    waba_id = body.get("waba_id")
    if not isinstance(waba_id, str) or not _is_waba_id(waba_id):
        return _problem(400, "WABA_ID_REQUIRED", "waba_id (digits) is required")
    record, verdict = await request.app[REGISTRY].create(waba_id, body)
    return _stored_or_refused(record, verdict, status=201)


async def _list(request: web.Request) -> web.Response:
    filters = {k: v for k, v in request.query.items() if k in FILTERS}
    try:
        limit = min(MAX_PAGE, max(1, int(request.query.get("limit", "100"))))
        offset = max(0, int(request.query.get("offset", "0")))
    except ValueError:
        return _problem(400, "INVALID_QUERY", "limit and offset are whole numbers")
    if offset > MAX_OFFSET:  # PostgreSQL's OFFSET is a 64-bit integer
        return _problem(400, "INVALID_QUERY", f"offset is at most {MAX_OFFSET}")
    rows = await request.app[REGISTRY].store.find(filters, limit, offset)
    return web.json_response({"templates": [r.as_api() for r in rows]})


async def _stored(request: web.Request) -> TemplateRecord:
    """The template-language the path names, as stored (a deleted one too)."""
    record = await request.app[REGISTRY].store.get(_key(request))
    if record is None:
        raise NotFound(f"no template {_key(request)}")
    return record


async def _get(request: web.Request) -> web.Response:
    return web.json_response((await _stored(request)).as_api())


async def _translate(request: web.Request) -> web.Response:
    m = request.match_info
    record, verdict = await request.app[REGISTRY].translate(
        m["waba_id"], m["name"], await _json(request)
    )
    return _stored_or_refused(record, verdict, status=201)


async def _edit(request: web.Request) -> web.Response:
    record, verdict = await request.app[REGISTRY].edit(_key(request), await _json(request))
    return _stored_or_refused(record, verdict)


async def _delete(request: web.Request) -> web.Response:
    m = request.match_info
    language = request.query.get("language")
    deleted = await request.app[REGISTRY].delete(m["waba_id"], m["name"], language)
    return web.json_response({"deleted": [r.as_api() for r in deleted]})


async def _history(request: web.Request) -> web.Response:
    history = await request.app[REGISTRY].store.history(_key(request))
    if not history:
        raise NotFound(f"no template {_key(request)}")
    return web.json_response({"history": history})


async def _preview(request: web.Request) -> web.Response:
    record = await _stored(request)
    sample = (await _json(request)).get("parameters")
    rendered, issues = render(
        record.category,
        record.parameter_format,
        record.components,
        sample if isinstance(sample, dict) else {},
    )
    if rendered is None:
        return _refused(Verdict(errors=tuple(issues)))
    return web.json_response(rendered.as_dict())


async def _submit(request: web.Request) -> web.Response:
    record = await request.app[REGISTRY].submit(_key(request))
    return web.json_response(record.as_api())


async def _unpause(request: web.Request) -> web.Response:
    record = await request.app[REGISTRY].unpause(_key(request))
    return web.json_response(record.as_api(), status=202)


async def _fallbacks(request: web.Request) -> web.Response:
    m = request.match_info
    languages = (await _json(request)).get("languages")
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        return _problem(400, "LANGUAGES_REQUIRED", "languages is a list of language codes")
    verdict = await request.app[REGISTRY].set_fallbacks(m["waba_id"], m["name"], languages)
    if not verdict.ok:
        return _refused(verdict)
    return web.json_response({"languages": languages})


async def _sync(request: web.Request) -> web.Response:
    counts = await sync.sync(request.app[REGISTRY], request.match_info["waba_id"])
    return web.json_response(counts)
