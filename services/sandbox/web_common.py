"""What the sandbox's two route sets (the Cloud API's and the control API's) share: the app keys
of the sandbox's parts, reading a request's JSON body, and answering with Meta's error body."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from services.sandbox.catalogue import TemplateDesk
from services.sandbox.handlers import Sandbox
from services.sandbox.rules import codes, webhook_envelopes
from services.sandbox.webhook_sender import WebhookSender
from shared.events.common import MetaError

SANDBOX = web.AppKey("sandbox", Sandbox)
DESK = web.AppKey("template_desk", TemplateDesk)
SENDER = web.AppKey("webhook_sender", WebhookSender)
TRACE_ID = "sandbox"  # the `fbtrace_id` of errors answered before the sandbox handles a request

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def meta_error(error: MetaError, status: int = 400) -> web.Response:
    return web.json_response(webhook_envelopes.error_body(error, TRACE_ID), status=status)


def _not_json(details: str) -> web.HTTPBadRequest:
    body = webhook_envelopes.error_body(codes.invalid_parameter(details), TRACE_ID)
    return web.HTTPBadRequest(text=json.dumps(body), content_type="application/json")


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object; anything else is refused with Meta's 100."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _not_json(f"body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise _not_json("body must be a JSON object")
    return body
