"""The sandbox's HTTP surface: the Cloud API messages endpoint and the control calls."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from aiohttp import web

from services.sandbox import envelopes
from services.sandbox.handlers import Sandbox
from shared.events.common import MetaError

SANDBOX = web.AppKey("sandbox", Sandbox)


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(
            text=json.dumps(
                envelopes.error_body(
                    MetaError(
                        code=100, title="Invalid parameter", details=f"body is not JSON: {exc}"
                    ),
                    "sandbox",
                )
            ),
            content_type="application/json",
        ) from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text='{"error": "body must be a JSON object"}', content_type="application/json"
        )
    return body


async def send_message(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    if not sandbox.authorized(request.headers.get("Authorization")):
        error = MetaError(
            code=190,
            title="Invalid OAuth access token",
            details="The access token could not be decrypted",
        )
        return web.json_response(envelopes.error_body(error, "sandbox"), status=401)
    payload = await _json_body(request)
    result = sandbox.send(request.match_info["phone_number_id"], payload)
    return web.json_response(result.body, status=result.status)


async def customer_message(request: web.Request) -> web.Response:
    body = await _json_body(request)
    missing = [k for k in ("phone_number_id", "from", "text") if not body.get(k)]
    if missing:
        return web.json_response({"error": f"missing fields: {', '.join(missing)}"}, status=400)
    wamid = request.app[SANDBOX].customer_message(
        str(body["phone_number_id"]),
        str(body["from"]),
        str(body["text"]),
        str(body.get("name") or "Sandbox Customer"),
    )
    return web.json_response({"id": wamid})


async def violations(request: web.Request) -> web.Response:
    items = [{**asdict(v), "at": v.at.isoformat()} for v in request.app[SANDBOX].world.violations]
    return web.json_response({"violations": items, "count": len(items)})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/{version}/{phone_number_id}/messages", send_message)
    app.router.add_post("/sandbox/customer-messages", customer_message)
    app.router.add_get("/sandbox/violations", violations)
