"""Nothing vanishes in policy: hostile intents and consent events, generated, through the agents'
record handling over the real handlers. Every intent ends with exactly one decision (an intent
whose decision fails ends rejected with INTERNAL_ERROR, its record dead-lettered, its values
withheld); every consent record is kept or dead-lettered with a reason; nothing escapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.policy.agents import consumer, decided
from services.policy.rules import PolicyConfig
from shared import codec
from shared.events.consent import ConsentChanged
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.events.template_states import ButtonParameter, ParameterSpec, TemplateStateChanged
from tests.services.policy.test_agents import Message, Record, Stream
from tests.services.policy.test_handlers import Harness

WABA = "102290129340398"
PNID = "106540352242922"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CODE = "739201"
OTP = TemplateStateChanged(
    waba_id=WABA,
    name="login_code",
    language="en_US",
    category="AUTHENTICATION",
    status="APPROVED",
    parameters=ParameterSpec(body_count=1, buttons=(ButtonParameter(index=0, sub_type="url"),)),
)


def harness() -> Harness:
    return Harness(PolicyConfig(default_waba_id=WABA), templates={OTP.key: OTP.model_dump()})


async def run(h: Harness, model: type[Any], handle: Any, records: list[Record]) -> list[Any]:
    dead: list[tuple[Record, str]] = []

    async def dead_letter(event: Any, reason: str) -> None:
        dead.append((event, reason))

    await consumer(model, handle, dead_letter)(Stream(records))
    return dead


def _intent_record(intent: OutboundIntentSubmitted) -> Record:
    key = conversation_key(intent.phone_number_id, intent.to).encode()
    return Record(codec.encode(intent), key=key, message=Message(topic="wagate.intents.v1"))


async def test_an_intent_whose_decision_fails_ends_rejected_and_is_dead_lettered() -> None:
    h = harness()
    crafted = OutboundIntentSubmitted(
        intent_id="crafted",
        phone_number_id=PNID,
        to="16505551234",
        content=TemplateContent(
            name="login_code",
            language="en_US",
            components=[
                {"type": "body", "parameters": 5},
                {"type": "button", "sub_type": "url", "index": 0, "parameters": [{"text": CODE}]},
            ],
        ),
    )
    after = crafted.model_copy(update={"intent_id": "after", "content": TextContent(body="hi")})

    async def handle(intent: OutboundIntentSubmitted, event: Any) -> None:
        await decided(h.handlers, intent, event)

    records = [_intent_record(crafted), _intent_record(after)]
    dead = await run(h, OutboundIntentSubmitted, handle, records)
    first, second = h.decisions()
    assert (first.intent.intent_id, first.outcome, first.reasons) == (
        "crafted",
        "rejected",
        ["INTERNAL_ERROR"],
    )
    assert "TypeError in redact" in first.detail and "dead-letter topic" in first.detail
    assert first.intent.content.components == []  # type: ignore[union-attr]
    assert CODE.encode() not in h.emitted("decision")[0][1]
    assert [(event.value, reason.split(":")[0]) for event, reason in dead] == [
        (records[0].value, "deciding the intent failed")
    ]
    assert (second.intent.intent_id, second.reasons) == ("after", ["WINDOW_CLOSED"])
    assert (
        h.metric("wagate_policy_decisions_total", outcome="rejected", reason="INTERNAL_ERROR") == 1
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
components = st.lists(
    st.fixed_dictionaries(
        {"type": st.sampled_from(["body", "header", "button", "BODY", "carousel"])},
        optional={
            "parameters": json_values,
            "index": json_values,
            "sub_type": st.sampled_from(["url", "copy_code", "quick_reply"]) | st.text(max_size=5),
        },
    ),
    max_size=4,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    parts=components,
    name=st.sampled_from(["login_code", "unknown"]),
    language=st.sampled_from(["en_US", "en_us", "EN-us", "xx-yyyy-zz", "english"]),
    to=st.text(min_size=1, max_size=20),
)
async def test_every_hostile_intent_ends_with_exactly_one_decision(
    parts: list[dict[str, Any]], name: str, language: str, to: str
) -> None:
    h = harness()
    h.handlers.on_consent(
        ConsentChanged(
            phone_number_id=PNID,
            customer="16505551234",
            category="all",
            opted_in=True,
            occurred_at=NOW,
            source="t",
        )
    )
    try:
        intent = OutboundIntentSubmitted(
            intent_id="hostile",
            phone_number_id=PNID,
            to=to,
            content=TemplateContent(name=name, language=language, components=parts),
        )
    except ValidationError as refused:  # such a record is dead-lettered: test_hostile_records.py
        assert "holds a NUL" in str(refused) or "not a finite number" in str(refused)
        return

    async def handle(value: OutboundIntentSubmitted, event: Any) -> None:
        await decided(h.handlers, value, event)

    dead = await run(h, OutboundIntentSubmitted, handle, [_intent_record(intent)])
    [(key, _)] = [(k, v) for k, v in h.emitted("decision") + h.emitted("reroute")]
    decisions = h.decisions()
    if decisions:
        [decision] = decisions
        assert (decision.reasons == ["INTERNAL_ERROR"]) is bool(dead)
        assert decision.outcome in ("approved", "rejected", "deferred")
    else:  # keyed off its conversation: re-keyed, to be decided on its own partition
        assert key == conversation_key(PNID, to) and not dead


consent_fields = st.fixed_dictionaries(
    {},
    optional={
        "customer": json_values | st.sampled_from(["16505551234", "+1 650", "", "abc"]),
        "phone_number_id": json_values | st.sampled_from([PNID, ""]),
        "waba_id": json_values | st.sampled_from([WABA, "777", None]),
        "category": json_values | st.sampled_from(["all", "utility", "promotions", ""]),
        "opted_in": json_values,
        "source": json_values | st.sampled_from(["send_error:131050", "crm"]),
        "occurred_at": st.sampled_from(
            ["2026-03-02T10:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "x", 5]
        ),
        "event_id": st.text(max_size=5),
    },
)


@settings(max_examples=200, deadline=None)
@given(events=st.lists(consent_fields, max_size=5))
async def test_hostile_consent_events_are_kept_or_dead_lettered_never_raised(
    events: list[dict[str, Any]],
) -> None:
    h = harness()

    async def handle(change: ConsentChanged, event: Any) -> None:
        h.handlers.on_consent(change, event.message.partition)

    records = [Record(json.dumps(e).encode()) for e in events]
    dead = await run(h, ConsentChanged, handle, records)
    assert all(reason for _, reason in dead)
    assert len(dead) <= len(records)
    view = h.handlers.consent_view(PNID, "16505551234")  # still readable
    assert set(view["templates"]) == {"marketing", "utility", "authentication"}
