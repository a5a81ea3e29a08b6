"""The sandbox's Cloud API surface: the messages endpoint (with injected faults) and template
management, behind the bearer-token check."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from services.sandbox import codes, envelopes
from services.sandbox.catalogue import TemplateDesk
from services.sandbox.faults import ApiFault
from services.sandbox.handlers import Sandbox, SendResult
from services.sandbox.webhooks import WebhookSender
from shared.events.common import MetaError

SANDBOX = web.AppKey("sandbox", Sandbox)
DESK = web.AppKey("template_desk", TemplateDesk)
SENDER = web.AppKey("webhook_sender", WebhookSender)


def meta_error(error: MetaError, status: int = 400) -> web.Response:
    return web.json_response(envelopes.error_body(error, "sandbox"), status=status)


async def json_body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(
            text=json.dumps(
                envelopes.error_body(codes.invalid_parameter(f"body is not JSON: {exc}"), "sandbox")
            ),
            content_type="application/json",
        ) from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(
            text=json.dumps(
                envelopes.error_body(
                    codes.invalid_parameter("body must be a JSON object"), "sandbox"
                )
            ),
            content_type="application/json",
        )
    return body


def _reply(result: SendResult) -> web.Response:
    return web.json_response(result.body, status=result.status)


def _unauthorized(request: web.Request) -> web.Response | None:
    if request.app[SANDBOX].authorized(request.headers.get("Authorization")):
        return None
    return meta_error(codes.access_token(), 401)


async def _injected(request: web.Request, fault: ApiFault) -> web.Response | None:
    """The response a fault replaces the real one with (None: carry on, maybe late)."""
    if fault is ApiFault.SERVER_ERROR:
        return meta_error(codes.unknown_error(), 500)
    if fault is ApiFault.THROTTLE:
        return meta_error(codes.throughput(), 400)
    if fault is ApiFault.DROP:  # closed before answering; aiohttp drops the unsent reply quietly
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)
    return None


async def send_message(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    fault = request.app[SANDBOX].board.next_api_fault()
    if fault is not None:
        request.app[SANDBOX].metrics.faults.labels(fault.value).inc()
        injected = await _injected(request, fault)
        if injected is not None:
            return injected
    payload = await json_body(request)
    info = request.match_info
    sandbox = request.app[SANDBOX]
    result = sandbox.send(info["phone_number_id"], payload, info["version"])
    if fault is ApiFault.TIMEOUT:  # accepted, but the answer comes too late for most clients
        await asyncio.sleep(sandbox.board.faults.timeout_s)
    return _reply(result)


async def create_template(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    body = await json_body(request)
    return _reply(request.app[DESK].create(request.match_info["waba_id"], body))


async def list_templates(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    return _reply(request.app[DESK].list(request.match_info["waba_id"], request.query))


async def delete_templates(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    return _reply(request.app[DESK].delete(request.match_info["waba_id"], request.query))


async def read_template(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    return _reply(request.app[DESK].read(request.match_info["template_id"]))


async def edit_template(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    body = await json_body(request)
    return _reply(request.app[DESK].edit(request.match_info["template_id"], body))


async def unpause_template(request: web.Request) -> web.Response:
    refused = _unauthorized(request)
    if refused is not None:
        return refused
    return _reply(request.app[DESK].unpause_request(request.match_info["template_id"]))


def add_routes(app: web.Application) -> None:
    from services.sandbox import web_control

    web_control.add_routes(app)
    app.router.add_post("/{version}/{phone_number_id}/messages", send_message)
    app.router.add_post("/{version}/{waba_id}/message_templates", create_template)
    app.router.add_get("/{version}/{waba_id}/message_templates", list_templates)
    app.router.add_delete("/{version}/{waba_id}/message_templates", delete_templates)
    app.router.add_post("/{version}/{template_id}/unpause", unpause_template)
    app.router.add_get("/{version}/{template_id:[0-9]+}", read_template)
    app.router.add_post("/{version}/{template_id:[0-9]+}", edit_template)
