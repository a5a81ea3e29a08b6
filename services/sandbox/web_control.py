"""The control API (`/_sandbox/...`): play customers, act as Meta on templates and numbers,
inspect traffic and violations, inject faults, reset. `/sandbox/customer-messages` and
`/sandbox/violations` remain as aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from services.sandbox.catalogue import TemplateDesk
from services.sandbox.errors import InvalidCustomerMessage, TemplateActionRefused, TemplateNotFound
from services.sandbox.faults import Faults
from services.sandbox.rules.template_model import Template
from services.sandbox.web_common import DESK, SANDBOX, SENDER, Handler, json_body
from shared.events.keys import normalize_wa_id


def _bad(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


async def customer_message(request: web.Request) -> web.Response:
    body = await json_body(request)
    try:
        wamid = request.app[SANDBOX].customers.sends(body)
    except InvalidCustomerMessage as exc:
        return _bad(str(exc))
    return web.json_response({"id": wamid})


async def customer_read(request: web.Request) -> web.Response:
    body = await json_body(request)
    if not request.app[SANDBOX].customers.read(str(body.get("wamid", ""))):
        return _bad("no accepted message with that wamid", 404)
    return web.json_response({"read": body["wamid"]})


async def user_preference(request: web.Request) -> web.Response:
    body = await json_body(request)
    value = body.get("value")
    if value not in ("stop", "resume") or not body.get("phone_number_id") or not body.get("wa_id"):
        return _bad("phone_number_id, wa_id and value (stop|resume) are required")
    request.app[SANDBOX].customers.preference(
        str(body["phone_number_id"]), str(body["wa_id"]), value
    )
    return web.json_response({"wa_id": body["wa_id"], "value": value})


async def reachability(request: web.Request) -> web.Response:
    body = await json_body(request)
    wa_id = normalize_wa_id(str(body.get("wa_id") or ""))
    reachable = body.get("reachable")
    if not wa_id or not isinstance(reachable, bool):
        return _bad("wa_id and reachable (true|false) are required")
    unreachable = request.app[SANDBOX].world.unreachable
    if reachable:
        unreachable.discard(wa_id)
    else:
        unreachable.add(wa_id)
    return web.json_response({"wa_id": wa_id, "reachable": reachable})


async def violations(request: web.Request) -> web.Response:
    items = request.app[SANDBOX].world.violations_json(request.query.get("code"))
    return web.json_response({"violations": items, "count": len(items)})


async def traffic(request: web.Request) -> web.Response:
    return web.json_response(
        request.app[SANDBOX].world.traffic(request.query.get("phone_number_id"))
    )


async def throughput(request: web.Request) -> web.Response:
    body = await json_body(request)
    mps = body.get("mps")
    number = str(body.get("phone_number_id") or "")
    if not number or not isinstance(mps, int | float) or isinstance(mps, bool) or mps <= 0:
        return _bad("phone_number_id and a positive mps are required")
    sandbox = request.app[SANDBOX]
    sandbox.world.throughput[number] = float(mps)
    sandbox.world.number_buckets.pop(number, None)
    return web.json_response({"phone_number_id": number, "mps": float(mps)})


async def faults(request: web.Request) -> web.Response:
    board = request.app[SANDBOX].board
    if request.method == "PUT":
        body = await json_body(request)
        seed = body.pop("seed", board.seed)
        try:
            board.configure(Faults(**body), seed if isinstance(seed, int) else None)
        except (ValidationError, TypeError) as exc:
            return _bad(str(exc))
    return web.json_response({**board.faults.model_dump(), "seed": board.seed})


async def webhooks(request: web.Request) -> web.Response:
    """The last webhooks the sandbox sent (or would have sent, with no webhook URL)."""
    recent = list(request.app[SENDER].recent)
    return web.json_response({"webhooks": recent, "count": len(recent)})


async def reset(request: web.Request) -> web.Response:
    body = await json_body(request) if request.can_read_body else {}
    seed = body.get("seed")
    request.app[SANDBOX].reset(seed if isinstance(seed, int) else None)
    request.app[SENDER].recent.clear()
    return web.json_response({"reset": True, "seed": seed})


async def list_templates(request: web.Request) -> web.Response:
    templates = request.app[SANDBOX].world.templates.values()
    return web.json_response({"data": [t.to_api() for t in templates]})


def _template_action(action: Callable[[web.Request, str, dict[str, Any]], Template]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        body = await json_body(request) if request.can_read_body else {}
        try:
            template = action(request, request.match_info["template_id"], body)
        except TemplateNotFound:
            return _bad("no such template", 404)
        except TemplateActionRefused as exc:
            return _bad(str(exc))
        return web.json_response(template.to_api())

    return handle


def add_control_routes(app: web.Application) -> None:
    """The control API's routes (no token: it is the developer's, not Meta's)."""
    desk = app[DESK]
    template_actions: dict[str, Callable[[web.Request, str, dict[str, Any]], Template]] = {
        "review": lambda _r, t, _b: _review(desk, t),
        "pause": lambda _r, t, _b: desk.pause(t),
        "unpause": lambda _r, t, _b: desk.unpause(t),
        "disable": lambda _r, t, _b: desk.disable(t),
        "category": lambda _r, t, b: desk.recategorise(
            t, str(b.get("category", "")), bool(b.get("notice"))
        ),
        "quality": lambda _r, t, b: desk.set_quality(t, str(b.get("score", ""))),
        "pacing": lambda _r, t, b: desk.pace(t, b.get("paced", True) is True),
    }
    for prefix in ("/_sandbox", "/sandbox"):
        app.router.add_post(f"{prefix}/customer-messages", customer_message)
        app.router.add_get(f"{prefix}/violations", violations)
    app.router.add_post("/_sandbox/customer-reads", customer_read)
    app.router.add_post("/_sandbox/user-preferences", user_preference)
    app.router.add_get("/_sandbox/messages", traffic)
    app.router.add_post("/_sandbox/throughput", throughput)
    app.router.add_post("/_sandbox/reachability", reachability)
    app.router.add_get("/_sandbox/faults", faults)
    app.router.add_put("/_sandbox/faults", faults)
    app.router.add_post("/_sandbox/reset", reset)
    app.router.add_get("/_sandbox/webhooks", webhooks)
    app.router.add_get("/_sandbox/templates", list_templates)
    for name, action in template_actions.items():
        app.router.add_post(f"/_sandbox/templates/{{template_id}}/{name}", _template_action(action))


def _review(desk: TemplateDesk, template_id: str) -> Template:
    """Decide a PENDING template now instead of after the configured delay."""
    desk.review_now(template_id)
    return desk.get(template_id)
