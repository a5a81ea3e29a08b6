"""The sandbox's Cloud API surface: the messages endpoint (with injected faults) and template
management, behind the bearer-token check."""

from __future__ import annotations

import asyncio

from aiohttp import web

from services.sandbox import web_media
from services.sandbox.faults import ApiFault
from services.sandbox.handlers import SendResult
from services.sandbox.rules import codes
from services.sandbox.web_common import DESK, SANDBOX, Handler, json_body, meta_error


def _reply(result: SendResult) -> web.Response:
    return web.json_response(result.body, status=result.status)


def _token_required(handler: Handler) -> Handler:
    """Every Cloud API route needs the bearer token, as Meta's do (190 otherwise)."""

    async def checked(request: web.Request) -> web.StreamResponse:
        if not request.app[SANDBOX].authorized(request.headers.get("Authorization")):
            return meta_error(codes.access_token(), 401)
        return await handler(request)

    return checked


async def _injected(request: web.Request, fault: ApiFault) -> web.Response | None:
    """The response a fault replaces the real one with (None: carry on, maybe late)."""
    if fault is ApiFault.SERVER_ERROR:
        return meta_error(codes.unknown_error(), 500)
    if fault is ApiFault.UNAVAILABLE:
        return meta_error(codes.service_unavailable(), 503)
    if fault is ApiFault.THROTTLE:
        return meta_error(codes.throughput(), 400)
    if fault is ApiFault.DROP:  # closed before answering; aiohttp drops the unsent reply quietly
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=204)
    return None


async def send_message(request: web.Request) -> web.Response:
    """`/messages`; with a fault injected, maybe not as asked."""
    return await _send(request, marketing=False)


async def send_marketing_message(request: web.Request) -> web.Response:
    """`/marketing_messages`: MARKETING templates, through the Marketing Messages API."""
    return await _send(request, marketing=True)


async def _send(request: web.Request, *, marketing: bool) -> web.Response:
    fault = request.app[SANDBOX].board.next_api_fault()
    if fault is not None:
        request.app[SANDBOX].metrics.faults.labels(fault.value).inc()
        injected = await _injected(request, fault)
        if injected is not None:
            return injected
    payload = await json_body(request)
    info = request.match_info
    sandbox = request.app[SANDBOX]
    send = sandbox.send_marketing if marketing else sandbox.send
    result = send(info["phone_number_id"], payload, info["version"])
    if fault is ApiFault.TIMEOUT:  # accepted, but the answer comes too late for most clients
        await asyncio.sleep(sandbox.board.faults.timeout_s)
    return _reply(result)


async def create_template(request: web.Request) -> web.Response:
    body = await json_body(request)
    return _reply(request.app[DESK].create(request.match_info["waba_id"], body))


async def list_templates(request: web.Request) -> web.Response:
    return _reply(request.app[DESK].list(request.match_info["waba_id"], request.query))


async def delete_templates(request: web.Request) -> web.Response:
    return _reply(request.app[DESK].delete(request.match_info["waba_id"], request.query))


async def read_template(request: web.Request) -> web.Response:
    return _reply(request.app[DESK].read(request.match_info["template_id"]))


async def edit_template(request: web.Request) -> web.Response:
    body = await json_body(request)
    return _reply(request.app[DESK].edit(request.match_info["template_id"], body))


async def unpause_template(request: web.Request) -> web.Response:
    return _reply(request.app[DESK].unpause_request(request.match_info["template_id"]))


def add_graph_routes(app: web.Application) -> None:
    """The Cloud API's routes, each behind the bearer-token check."""
    templates = "/{version}/{waba_id}/message_templates"
    template = "/{version}/{template_id:[0-9]+}"
    graph: list[tuple[str, str, Handler]] = [
        ("POST", "/{version}/{phone_number_id}/messages", send_message),
        ("POST", "/{version}/{phone_number_id}/marketing_messages", send_marketing_message),
        ("POST", templates, create_template),
        ("GET", templates, list_templates),
        ("DELETE", templates, delete_templates),
        ("POST", "/{version}/{template_id}/unpause", unpause_template),
        ("GET", template, web_media.read_object(read_template)),
        ("POST", template, edit_template),
    ]
    for method, path, handler in graph:
        app.router.add_route(method, path, _token_required(handler))
