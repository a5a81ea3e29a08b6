"""Policy's decisions per second on one core: the pure `rules.decide` with the facts of an
opted-in customer inside the window (text and template intents, half each), and through
PolicyHandlers over dict tables of a realistic size (the harness the policy tests use: the
decision, the table reads and writes, the sealed resubmit token and the encoded decision,
without faust or Kafka around it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from services.policy import rules
from services.policy.rules import Facts, PolicyConfig
from services.policy.windows import WindowState
from shared import codec
from shared.events.consent import ConsentChanged
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.events.template_states import ParameterSpec, TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived
from tests.services.policy.opted_in import OPTED_IN
from tests.services.policy.test_handlers import Harness

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WABA = "102290129340398"
PNID = "106540352242922"
CONFIG = PolicyConfig(default_waba_id=WABA)


def template(n: int) -> TemplateStateChanged:
    return TemplateStateChanged(
        waba_id=WABA,
        name=f"order_update_{n}",
        language="en_US",
        category="UTILITY",
        status="APPROVED",
        parameters=ParameterSpec(body_count=1),
        version=1,
    )


def customer(n: int) -> str:
    return f"1650{n:07d}"


def intent(n: int, templates: int) -> OutboundIntentSubmitted:
    content: TextContent | TemplateContent = TextContent(body=f"Your order {n} has shipped.")
    if n % 2:
        content = TemplateContent(
            name=f"order_update_{n % templates}",
            language="en_US",
            components=[{"type": "body", "parameters": [{"type": "text", "text": f"#{n}"}]}],
        )
    return OutboundIntentSubmitted(
        intent_id=f"bench-{n}", phone_number_id=PNID, to=customer(n), content=content
    )


def _timed(count: int, step: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for n in range(count):
        step(n)
    return count / (time.perf_counter() - started)


def pure(count: int, templates: int = 200) -> float:
    """Decisions per second of `rules.decide` alone."""
    table = {t.key: t for t in map(template, range(templates))}
    window = WindowState(last_customer_message_at=NOW - timedelta(hours=1), last_message_id="w")
    facts = Facts(window=window, consent=OPTED_IN, templates=table.get)
    intents = [intent(n, templates) for n in range(count)]
    outcomes = {rules.decide(i, facts, NOW, CONFIG).outcome for i in intents[:2]}
    assert outcomes == {"approved"}, outcomes  # the realistic path, not an early refusal
    return _timed(count, lambda n: rules.decide(intents[n], facts, NOW, CONFIG))


async def filled_harness(conversations: int, templates: int, now: datetime = NOW) -> Harness:
    """Handlers whose tables hold `conversations` open windows and opt-ins, and the templates
    (the windows opened an hour before `now`)."""
    harness = Harness(CONFIG, now=now)
    for n in range(templates):
        harness.handlers.on_template_state(template(n))
    for n in range(conversations):
        await harness.handlers.on_inbound(
            InboundMessageReceived(
                phone_number_id=PNID, wa_id=customer(n), message_id=f"wamid.in{n}",
                timestamp=now - timedelta(hours=1), message_type="text", text="hi",
            )
        )  # fmt: skip
        harness.handlers.on_consent(
            ConsentChanged(
                phone_number_id=PNID, customer=customer(n), category="all", opted_in=True,
                occurred_at=now - timedelta(days=1), source="signup form",
            )
        )  # fmt: skip
    harness.sent.clear()
    return harness


async def handled(harness: Harness, count: int, conversations: int, templates: int) -> float:
    """Decisions per second through PolicyHandlers.on_intent, intents already encoded."""
    work = []
    for n in range(count):
        event = intent(n % conversations, templates).model_copy(update={"intent_id": f"b-{n}"})
        key = conversation_key(event.phone_number_id, event.to).encode()
        work.append((event, key, codec.encode(event)))
    started = time.perf_counter()
    for event, key, raw in work:
        await harness.handlers.on_intent(event, key, raw)
    rate = count / (time.perf_counter() - started)
    outcomes = {d.outcome for d in harness.decisions()}
    assert outcomes == {"approved"}, outcomes
    return rate
