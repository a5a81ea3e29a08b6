"""The control API (`/_sandbox/...`): add and play customers (phones, BSUIDs, usernames), act as
Meta on templates, numbers and portfolios, inspect traffic and violations, inject faults, reset.
`/sandbox/customer-messages` and `/sandbox/violations` remain as aliases.

Every refusal is `{"error": why}` with a 4xx, given before anything changes: bodies are read
strictly (`control_body`), and a path or query value holding a control character is a 400."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from services.sandbox.catalogue import TemplateDesk
from services.sandbox.customers import phone_of
from services.sandbox.errors import (
    CustomerConflict,
    InvalidCustomer,
    InvalidCustomerMessage,
    TemplateActionRefused,
    TemplateNotFound,
    UnknownCustomer,
)
from services.sandbox.faults import Faults
from services.sandbox.handlers import Sandbox
from services.sandbox.rules.template_model import Template
from services.sandbox.web_common import DESK, SANDBOX, SENDER, Handler, control_body
from shared import strict_json
from shared.events.keys import normalize_wa_id

CONTROL_PREFIXES = ("/_sandbox/", "/sandbox/")


def _bad(reason: str, status: int = 400) -> web.Response:
    return web.json_response({"error": reason}, status=status)


@web.middleware
async def control_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """On the control API: 400 for a path or query value holding a control character, and
    aiohttp's own refusals (no such route, method) as `{"error": why}` too."""
    if not request.path.startswith(CONTROL_PREFIXES):
        return await handler(request)
    for values in (request.match_info.items(), request.query.items()):
        name = strict_json.unsafe_value(values)
        if name is not None:
            return _bad(f"{name} holds a control character")
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        return _bad(exc.reason, exc.status)


CUSTOMER_ERRORS: dict[type[Exception], int] = {
    InvalidCustomerMessage: 400,
    InvalidCustomer: 400,
    UnknownCustomer: 404,
    CustomerConflict: 409,
}


def _customer_route(act: Callable[[Sandbox, dict[str, Any]], dict[str, Any]]) -> Handler:
    """A route acting on customers: a refused request is answered 400, 404 or 409 by its kind."""

    async def handle(request: web.Request) -> web.Response:
        body = await control_body(request) if request.can_read_body else {}
        try:
            return web.json_response(act(request.app[SANDBOX], body))
        except tuple(CUSTOMER_ERRORS) as exc:
            return _bad(str(exc), CUSTOMER_ERRORS[type(exc)])

    return handle


def _named(body: dict[str, Any]) -> dict[str, Any]:
    """The identifiers a request named the customer by, as the answer echoes them."""
    return {k: body[k] for k in ("wa_id", "user_id") if body.get(k)}


def _customer_message(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    return {"id": sandbox.customers.sends(body)}


def _user_preference(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    value = body.get("value")
    if value not in ("stop", "resume") or not body.get("phone_number_id") or not _named(body):
        raise InvalidCustomer(
            "phone_number_id, wa_id or user_id, and value (stop|resume) are required"
        )
    customer = sandbox.customers.find(body.get("wa_id"), body.get("user_id"))
    sandbox.customers.preference(str(body["phone_number_id"]), customer, str(value))
    return {**_named(body), "value": value}


def _reachability(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    reachable = body.get("reachable")
    if not _named(body) or not isinstance(reachable, bool):
        raise InvalidCustomer("wa_id or user_id, and reachable (true|false) are required")
    customer = sandbox.customers.find(body.get("wa_id"), body.get("user_id"))
    if reachable:
        sandbox.world.unreachable.discard(customer.key)
    else:
        sandbox.world.unreachable.add(customer.key)
    named = _named(body)
    if "wa_id" in named:
        named["wa_id"] = normalize_wa_id(str(named["wa_id"]))
    return {**named, "reachable": reachable}


def _add_customer(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    return sandbox.customers.describe(sandbox.customers.add(body))


def _change_number(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    customers = sandbox.customers
    customer = customers.find(body.get("from"), body.get("from_user_id"), create=False)
    numbers = body.get("phone_number_ids") or []
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        raise InvalidCustomer("phone_number_ids must be an array of strings")
    notified = customers.change_number(customer, phone_of(body.get("to"), "to"), numbers)
    return {"customer": customers.describe(customer), "notified": notified}


async def customer_read(request: web.Request) -> web.Response:
    body = await control_body(request)
    if not request.app[SANDBOX].customers.read(str(body.get("wamid", ""))):
        return _bad("no accepted message with that wamid", 404)
    return web.json_response({"read": body["wamid"]})


async def list_customers(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    found = [sandbox.customers.describe(c) for c in sandbox.world.directory.customers.values()]
    return web.json_response({"customers": found, "count": len(found)})


async def show_customer(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    customer = sandbox.world.directory.find(request.match_info["identifier"])
    if customer is None:
        return _bad("no customer has that phone or BSUID", 404)
    return web.json_response(sandbox.customers.describe(customer))


async def portfolio(request: web.Request) -> web.Response:
    """Put business numbers in a portfolio (the sandbox's own unless said), linked or not."""
    body = await control_body(request)
    portfolio_id = body.get("portfolio_id")
    numbers = body.get("phone_number_ids")
    linked = body.get("linked", False)
    if (
        not isinstance(portfolio_id, str)
        or not portfolio_id
        or not isinstance(numbers, list)
        or not all(isinstance(n, str) and n for n in numbers)
        or not isinstance(linked, bool)
    ):
        return _bad(
            "portfolio_id, phone_number_ids (an array) and linked (true|false) are required"
        )
    world = request.app[SANDBOX].world
    for number in numbers:
        world.number_portfolios[number] = portfolio_id
    if linked:
        world.linked_portfolios.add(portfolio_id)
    else:
        world.linked_portfolios.discard(portfolio_id)
    mine = sorted(n for n, p in world.number_portfolios.items() if p == portfolio_id)
    return web.json_response(
        {"portfolio_id": portfolio_id, "phone_number_ids": mine, "linked": linked}
    )


async def violations(request: web.Request) -> web.Response:
    items = request.app[SANDBOX].world.violations_json(request.query.get("code"))
    return web.json_response({"violations": items, "count": len(items)})


async def traffic(request: web.Request) -> web.Response:
    return web.json_response(
        request.app[SANDBOX].world.traffic(request.query.get("phone_number_id"))
    )


async def throughput(request: web.Request) -> web.Response:
    body = await control_body(request)
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
        body = await control_body(request)
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
    body = await control_body(request) if request.can_read_body else {}
    seed = body.get("seed")
    request.app[SANDBOX].reset(seed if isinstance(seed, int) else None)
    request.app[SENDER].recent.clear()
    return web.json_response({"reset": True, "seed": seed})


async def list_templates(request: web.Request) -> web.Response:
    templates = request.app[SANDBOX].world.templates.values()
    return web.json_response({"data": [t.to_api() for t in templates]})


def _template_action(action: Callable[[web.Request, str, dict[str, Any]], Template]) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        body = await control_body(request) if request.can_read_body else {}
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
    app.middlewares.append(control_guard)
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
        app.router.add_post(f"{prefix}/customer-messages", _customer_route(_customer_message))
        app.router.add_get(f"{prefix}/violations", violations)
    app.router.add_post("/_sandbox/customer-reads", customer_read)
    app.router.add_post("/_sandbox/user-preferences", _customer_route(_user_preference))
    app.router.add_post("/_sandbox/customers", _customer_route(_add_customer))
    app.router.add_get("/_sandbox/customers", list_customers)
    app.router.add_get("/_sandbox/customers/{identifier}", show_customer)
    app.router.add_post("/_sandbox/number-changes", _customer_route(_change_number))
    app.router.add_post("/_sandbox/portfolios", portfolio)
    app.router.add_get("/_sandbox/messages", traffic)
    app.router.add_post("/_sandbox/throughput", throughput)
    app.router.add_post("/_sandbox/reachability", _customer_route(_reachability))
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
