"""The control API's account side (`/_sandbox/accounts/...`, `/_sandbox/sender-codes`): act as
Meta on the business's account. Report a portfolio's messaging limit, upgrade a number's
throughput (its rate rises to 1,000 mps), restrict the WABA or lift its restrictions, each
with the webhook Meta sends; and have the next sends answered with Meta's stops of a sender
(131048, 131064, 368: refused at once) or its per-customer answers (131049, 130472: accepted,
then `failed`). Refusals are `{"error": why}` with a 400, before anything changes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from services.sandbox.rules import account_webhooks, codes
from services.sandbox.web_common import SANDBOX, control_body

ASKABLE = sorted({*codes.SENDER_CODES, *codes.LATE_CODES})


def _bad(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


def _send(request: web.Request, payload: dict[str, Any]) -> web.Response:
    request.app[SANDBOX].outbox.enqueue(payload)
    return web.json_response(payload)


async def limit(request: web.Request) -> web.Response:
    body = await control_body(request)
    tier = body.get("tier")
    if tier not in account_webhooks.TIERS:
        return _bad(f"tier must be one of {', '.join(account_webhooks.TIERS)}")
    sandbox = request.app[SANDBOX]
    waba = str(body.get("waba_id") or sandbox.settings.waba_id)
    return _send(request, account_webhooks.capability_update(waba, str(tier), sandbox.clock()))


async def throughput_upgrade(request: web.Request) -> web.Response:
    body = await control_body(request)
    number = body.get("phone_number_id")
    if not isinstance(number, str) or not number:
        return _bad("phone_number_id is required")
    sandbox = request.app[SANDBOX]
    sandbox.world.throughput[number] = account_webhooks.UPGRADED_MPS
    sandbox.world.number_buckets.pop(number, None)
    display = str(body.get("display_phone_number") or sandbox.settings.display_phone_number)
    payload = account_webhooks.quality_update(
        sandbox.settings.waba_id, display, "THROUGHPUT_UPGRADE", "TIER_UNLIMITED", sandbox.clock()
    )
    return _send(request, payload)


async def restrictions(request: web.Request) -> web.Response:
    body = await control_body(request)
    kinds = body.get("restrictions")
    if not isinstance(kinds, list) or not all(isinstance(k, str) and k for k in kinds):
        return _bad("restrictions must be a list of restriction types ([] lifts them)")
    sandbox = request.app[SANDBOX]
    payload = account_webhooks.restriction_update(sandbox.settings.waba_id, kinds, sandbox.clock())
    return _send(request, payload)


async def sender_codes(request: web.Request) -> web.Response:
    body = await control_body(request)
    asked = body.get("codes")
    if not isinstance(asked, list) or not asked or any(c not in ASKABLE for c in asked):
        return _bad(f"codes must be a list of {', '.join(map(str, ASKABLE))}")
    world = request.app[SANDBOX].world
    world.next_codes.extend(int(c) for c in asked)
    return web.json_response({"next_codes": world.next_codes})


def add_account_routes(app: web.Application) -> None:
    app.router.add_post("/_sandbox/accounts/limit", limit)
    app.router.add_post("/_sandbox/accounts/throughput-upgrade", throughput_upgrade)
    app.router.add_post("/_sandbox/accounts/restrictions", restrictions)
    app.router.add_post("/_sandbox/sender-codes", sender_codes)
