"""What the sandbox's two route sets (the Cloud API's and the control API's) share: the app keys
of the sandbox's parts, reading a request's JSON body strictly (Meta's error 100 on the Cloud
API's routes, `{"error": why}` on the control API's), and answering with Meta's error body."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from services.sandbox.catalogue import TemplateDesk
from services.sandbox.handlers import Sandbox
from services.sandbox.rules import codes, webhook_envelopes
from services.sandbox.webhook_sender import WebhookSender
from shared import http, strict_json
from shared.events.common import MetaError

SANDBOX = web.AppKey("sandbox", Sandbox)
DESK = web.AppKey("template_desk", TemplateDesk)
SENDER = web.AppKey("webhook_sender", WebhookSender)
TRACE_ID = "sandbox"  # the `fbtrace_id` of errors answered before the sandbox handles a request

JSON_MAX = 1024**2
"""The largest JSON body either side reads (the app takes more only for media uploads)."""
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def meta_error(error: MetaError, status: int = 400) -> web.Response:
    return web.json_response(webhook_envelopes.error_body(error, TRACE_ID), status=status)


async def json_body(request: web.Request) -> dict[str, Any]:
    """The request's JSON object, read strictly (`shared.strict_json.parse_object`; a NUL in a text
    is the Cloud API's to judge); anything else is refused with Meta's 100."""
    try:
        return await http.json_object(request, plain_text=False, max_size=JSON_MAX)
    except strict_json.BadInput as exc:
        body = webhook_envelopes.error_body(codes.invalid_parameter(str(exc)), TRACE_ID)
        raise Refused(exc.status, body) from exc


async def control_body(request: web.Request) -> dict[str, Any]:
    """A control request's JSON object, read strictly, NUL and unpaired surrogates refused:
    no customer writes them, and ingest would have to refuse the webhook; `{"error": why}`
    with 400 (413 past the size limit) otherwise."""
    try:
        return await http.json_object(request, max_size=JSON_MAX)
    except strict_json.BadInput as exc:
        raise Refused(exc.status, {"error": str(exc)}) from exc


class Refused(web.HTTPClientError):
    """A request answered with a 4xx JSON body before its handler acts on anything."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        self.status_code = status
        super().__init__(text=json.dumps(body), content_type="application/json")
