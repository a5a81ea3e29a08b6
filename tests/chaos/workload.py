"""The chaos runs' mixed workload: customers with open and closed windows, opted in or not,
opted out of marketing or at their marketing cap; templates in every state policy learns
(APPROVED, PAUSED, PENDING, REJECTED, DISABLED); free-form replies, templates, and free-form
intents with a template fallback. Each intent carries the outcome the rule calls for, computed
from the state the run set up (`expected`), never from a list of ids."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from shared.client import WagateClient
from shared.events.consent import ConsentChanged
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.events.reasons import Reason
from shared.messaging import Publisher, make_producer
from shared.topics import CONSENT
from tests.e2e.conftest import System
from tests.e2e.test_compliance_run import LOYALTY, TRAVEL, _settled
from tests.e2e.test_fallbacks_e2e import (
    OTP,
    SHIPPING,
    WABA,
    _act,
    _templates,
    _until_status,
    customer_writes,
    template_in,
)
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID

MARKETING_PER_DAY = 1  # policy's cap in the run (POLICY_MARKETING_PER_DAY)
REJECTED_TEMPLATE = {  # the sandbox's review rejects abusive content
    "name": "chaos_refused_notice",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "This is not a scam, we promise."}],
}


@dataclass(frozen=True)
class Template:
    content: TemplateContent
    status: str  # the state at Meta, which policy learns from the templates service
    category: str


def _template(name: str, language: str, components: Any, status: str, category: str) -> Template:
    return Template(
        TemplateContent(name=name, language=language, components=components), status, category
    )


TEMPLATES = {  # what an intent may name: (name, language, components, state, category)
    "utility": _template("shipping_update", "en_US", SHIPPING, "APPROVED", "UTILITY"),
    "paused": _template("shipping_update", "es", SHIPPING, "PAUSED", "UTILITY"),
    "marketing": _template("loyalty_follow_up", "en_US", LOYALTY, "APPROVED", "MARKETING"),
    "pending": _template("travel_update", "en_US", TRAVEL, "PENDING", "UTILITY"),
    "disabled": _template("one_time_passcode", "en_US", OTP, "DISABLED", "AUTHENTICATION"),
    "rejected": _template(REJECTED_TEMPLATE["name"], "en_US", [], "REJECTED", "UTILITY"),
}


@dataclass
class Customer:
    """What the run made true of one customer before the intents."""

    wa_id: str
    window: bool  # wrote within the day: free-form replies are allowed
    opted_in: bool = True  # a business opt-in to every category
    marketing_out: bool = False  # opted out of marketing since
    marketing_sent: int = 0  # marketing messages policy approved today


@dataclass(frozen=True)
class Expected:
    """The outcome the rule calls for: sent (to the Cloud API), or refused for one of
    `reasons` (every reason that applies; policy may name any of them)."""

    sent: bool
    reasons: frozenset[Reason] = frozenset()

    def describe(self) -> str:
        return "sent" if self.sent else "rejected " + "|".join(sorted(self.reasons))


SEND = Expected(True)


def template_outcome(customer: Customer, template: Template) -> Expected:
    """A template send to `customer`: its state at Meta, the opt-in, marketing's opt-out
    and cap (rules §2, §5)."""
    reasons: set[Reason] = set()
    if template.status == "PAUSED":
        reasons.add(Reason.TEMPLATE_PAUSED)
    elif template.status != "APPROVED":
        reasons.add(Reason.TEMPLATE_NOT_APPROVED)
    if not customer.opted_in:
        reasons.add(Reason.NO_OPT_IN)
    if template.category == "MARKETING":
        if customer.marketing_out:
            reasons.add(Reason.MARKETING_OPTED_OUT)
        if customer.marketing_sent >= MARKETING_PER_DAY:
            reasons.add(Reason.MARKETING_FREQUENCY_CAP)
    return Expected(not reasons, frozenset(reasons))


def expected(customer: Customer, kind: str, fallback: str | None = None) -> Expected:
    """The outcome of an intent of `kind` (`text` or a key of TEMPLATES) to `customer`; a
    free-form text to a closed window goes out as its fallback when that may be sent."""
    if kind != "text":
        return template_outcome(customer, TEMPLATES[kind])
    if customer.window:
        return SEND
    if fallback is None:
        return Expected(False, frozenset({Reason.WINDOW_CLOSED}))
    instead = template_outcome(customer, TEMPLATES[fallback])
    return (
        instead
        if instead.sent
        else replace(instead, reasons=instead.reasons | {Reason.WINDOW_CLOSED})
    )


def customers(prefix: str, count: int) -> list[Customer]:
    """A fixed mix: open and closed windows; some never opted in, some opted out of
    marketing, some already at their marketing cap (the setup sends them one). Canadian
    numbers: Meta delivers no marketing to US ones."""
    out = []
    for n in range(count):
        c = Customer(f"{prefix}{n:04d}", window=n % 3 != 2)
        match n % 10:
            case 1 | 6:
                c.marketing_out = True
            case 3:
                c.opted_in = False
            case 5 | 8:
                c.marketing_sent = MARKETING_PER_DAY  # reached by the setup's send
        out.append(c)
    return out


KINDS = ("text", "text_fallback", "utility", "paused", "marketing", "pending", "disabled",
         "rejected")  # fmt: skip
WEIGHTS = (36, 20, 22, 4, 10, 3, 3, 2)


@dataclass
class Workload:
    intents: list[OutboundIntentSubmitted] = field(default_factory=list)
    expected: dict[str, Expected] = field(default_factory=dict)


def intents(rng: random.Random, prefix: str, crowd: Sequence[Customer], count: int) -> Workload:
    """`count` intents over `crowd`, each with its expected outcome; the customers' marketing
    counts move on as policy would count them (intents to one customer are decided in order)."""
    made = Workload()
    for n in range(count):
        customer = rng.choice(crowd)
        kind = rng.choices(KINDS, WEIGHTS)[0]
        fallback = rng.choice(("utility", "utility", "paused", "marketing"))
        intent_id = f"{prefix}-{n}"
        if kind == "text_fallback":
            outcome = expected(customer, "text", fallback)
            made.intents.append(_text(intent_id, customer, TEMPLATES[fallback].content))
        elif kind == "text":
            outcome = expected(customer, "text")
            made.intents.append(_text(intent_id, customer, None))
        else:
            outcome = expected(customer, kind)
            made.intents.append(_templated(intent_id, customer, TEMPLATES[kind].content))
        sent_marketing = kind == "marketing" or (
            kind == "text_fallback" and fallback == "marketing" and not customer.window
        )
        if outcome.sent and sent_marketing:
            customer.marketing_sent += 1
        made.expected[intent_id] = outcome
    return made


def _text(intent_id: str, c: Customer, fallback: TemplateContent | None) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id,
        phone_number_id=PHONE_NUMBER_ID,
        to=c.wa_id,
        content=TextContent(body=f"Update {intent_id}"),
        fallback_template=fallback,
        priority="reply",
    )


def _templated(intent_id: str, c: Customer, content: TemplateContent) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id, phone_number_id=PHONE_NUMBER_ID, to=c.wa_id, content=content
    )


async def prepare(system: System, crowd: Sequence[Customer], prefix: str) -> None:
    """Make the world the customers describe: templates in their states, windows, consent,
    and one marketing message delivered to each customer already at the cap."""
    await _template_states(system)
    now = datetime.now(UTC)
    for c in crowd:
        at = now - timedelta(minutes=5) if c.window else now - timedelta(hours=30)
        await customer_writes(system, c.wa_id, at)
    await _consent(system, crowd, now)
    changes = sum(c.opted_in + c.marketing_out for c in crowd)
    counted = ("wagate_policy_consent_updated_total", "wagate_policy_windows_updated_total")
    await _settled(system, counted, changes + len(crowd))
    capped = [c for c in crowd if c.marketing_sent]
    setup = [
        _templated(f"{prefix}-cap-{c.wa_id}", c, TEMPLATES["marketing"].content) for c in capped
    ]
    async with (
        WagateClient(system.kafka) as client,
        client.follow([i.intent_id for i in setup]) as stream,
    ):
        for intent in setup:
            await client.send(intent)
        left = {i.intent_id for i in setup}
        async with asyncio.timeout(120):
            async for update in stream:
                assert update.state != "rejected", update
                if update.state == "delivered":
                    left.discard(update.intent_id)
                if not left:
                    break


async def _template_states(system: System) -> None:
    await template_in(system, "shipping_update", "en_US", review=True)
    await template_in(system, "shipping_update", "es", status="PAUSED", review=True)
    await template_in(system, "loyalty_follow_up", "en_US", review=True)
    await template_in(system, "travel_update", "en_US", status="PENDING")
    await template_in(system, "one_time_passcode", "en_US", review=True)
    await _act(system, "one_time_passcode", "en_US", "disable")
    async with _templates(system) as session:
        await _until_status(session, "one_time_passcode", "en_US", "DISABLED")
        body: dict[str, Any] = {**REJECTED_TEMPLATE, "waba_id": WABA}
        async with session.post("/v1/templates", json=body) as resp:
            assert resp.status in (200, 201), await resp.text()
        await _act(system, REJECTED_TEMPLATE["name"], "en_US", "review")
        await _until_status(session, REJECTED_TEMPLATE["name"], "en_US", "REJECTED")
    await asyncio.sleep(3)  # the states reach policy through their topic


async def _consent(system: System, crowd: Sequence[Customer], now: datetime) -> None:
    producer = make_producer(system.kafka, "chaos")
    await producer.start()
    try:
        publisher = Publisher(producer, system.kafka)
        for c in crowd:
            events = [("all", True, 2)] if c.opted_in else []
            events += [("marketing", False, 1)] if c.marketing_out else []
            for category, opted_in, days in events:
                change = ConsentChanged(
                    customer=c.wa_id,
                    phone_number_id=PHONE_NUMBER_ID,
                    category=category,
                    opted_in=opted_in,
                    source="crm:chaos",
                    occurred_at=now - timedelta(days=days),
                )
                await publisher.publish(CONSENT, change, conversation_key(PHONE_NUMBER_ID, c.wa_id))
    finally:
        await producer.stop()


async def set_faults(system: System, faults: dict[str, object]) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.put(f"{system.url('sandbox')}/_sandbox/faults", json=faults) as resp,
    ):
        assert resp.status == 200, await resp.text()
