"""Events for the console's tests: one intent's whole story, told the way policy, dispatch,
ingest and templates tell it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.console.projection import Batch, dead_letter, project
from shared import deadletters
from shared.deadletters import DeadLetter
from shared.events.account import AccountUpdateReported
from shared.events.common import MetaError
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade, WindowSnapshot
from shared.events.delivery import DeliveryUpdated
from shared.events.envelope import Event
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.template_states import TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived
from shared.events.windows import WindowChanged

NUMBER = "106540352242922"
CUSTOMER = "16505551234"
STRANGER = "16505559876"
WABA = "100000000000001"
T0 = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
OTP = "739201"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reply(intent_id: str = "reply-1") -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id,
        phone_number_id=NUMBER,
        to=f"+1 650-555-{CUSTOMER[-4:]}",
        content=TextContent(body="Yes, it left this morning."),
        metadata={"order_id": "A-1042"},
        occurred_at=at(10),
    )


def otp(intent_id: str = "otp-1") -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id,
        phone_number_id=NUMBER,
        to=CUSTOMER,
        content=TemplateContent(
            name="one_time_passcode",
            language="en_US",
            components=[
                {"type": "body", "parameters": [{"type": "text", "text": OTP}]},
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": "0",
                    "parameters": [{"type": "text", "text": OTP}],
                },
            ],
        ),
        occurred_at=at(20),
    )


def decided(
    intent: OutboundIntentSubmitted,
    outcome: str,
    reasons: list[str],
    seconds: float,
    pricing: str = "free_service",
) -> PolicyDecisionMade:
    return PolicyDecisionMade(
        intent=intent,
        outcome=outcome,  # type: ignore[arg-type]
        reasons=reasons,
        detail="no customer message opened a 24-hour window" if reasons else "",
        window=WindowSnapshot()
        if reasons
        else WindowSnapshot(last_customer_message_at=at(0), expires_at=at(86400), is_open=True),
        pricing=pricing if not reasons else None,
        sealed="gAAAAAB-sealed-token-never-stored",
        occurred_at=at(seconds),
    )


def updated(
    intent: OutboundIntentSubmitted, state: str, seconds: float, **fields: object
) -> DeliveryUpdated:
    return DeliveryUpdated(
        intent_id=intent.intent_id,
        phone_number_id=intent.phone_number_id,
        to=intent.to,
        state=state,  # type: ignore[arg-type]
        occurred_at=at(seconds),
        **fields,  # type: ignore[arg-type]
    )


def story() -> list[Event]:
    """A customer writes; the reply is delivered; a stranger's message is rejected."""
    first = reply()
    late = OutboundIntentSubmitted(
        intent_id="late-1", phone_number_id=NUMBER, to=STRANGER,
        content=TextContent(body="Hello there!"), occurred_at=at(30),
    )  # fmt: skip
    return [
        InboundMessageReceived(
            phone_number_id=NUMBER,
            waba_id=WABA,
            display_phone_number="15550001111",
            wa_id=CUSTOMER,
            contact_name="Maria",
            message_id="wamid.IN1",
            timestamp=at(0),
            message_type="text",
            text="Is my order shipped?",
            occurred_at=at(1),
        ),
        WindowChanged(
            phone_number_id=NUMBER,
            wa_id=CUSTOMER,
            change="opened",
            last_customer_message_at=at(0),
            expires_at=at(86400),
            occurred_at=at(2),
        ),
        ConsentChanged(
            customer=CUSTOMER,
            phone_number_id=NUMBER,
            category="marketing",
            opted_in=True,
            source="crm:signup-form",
            occurred_at=at(3),
        ),
        first,
        decided(first, "approved", [], 11),
        updated(first, "accepted", 12, wamid="wamid.OUT1"),
        updated(
            first,
            "sent",
            13,
            wamid="wamid.OUT1",
            pricing={"billable": False, "category": "service", "pricing_model": "PMP"},
        ),
        updated(first, "delivered", 14, wamid="wamid.OUT1"),
        late,
        decided(late, "rejected", ["WINDOW_CLOSED"], 31),
        updated(
            late,
            "rejected",
            32,
            reasons=["WINDOW_CLOSED"],
            errors=[MetaError(code=131047, title="Re-engagement message")],
        ),
        *(
            TemplateStateChanged(
                waba_id=WABA,
                name="shipping_update",
                language="en_US",
                category="UTILITY",
                status=status,
                quality=quality,
                version=version,
                occurred_at=at(version - 101),
            )
            for version, status, quality in ((1, "PENDING", None), (2, "APPROVED", "GREEN"))
        ),
        AccountUpdateReported(
            field="business_capability_update",
            waba_id=WABA,
            details={"max_daily_conversations_per_business": "TIER_2K"},
            occurred_at=at(-50),
        ),
    ]


def dead_intent_record(
    topic: str,
    intent: OutboundIntentSubmitted,
    offset: int = 7,
    source: str | None = None,
    partition: int = 0,
) -> DeadLetter:
    """An intent some consumer gave up on, as it sits on the dead-letter topic."""
    return DeadLetter(
        topic=topic,
        partition=partition,
        offset=offset,
        timestamp_ms=int(at(40).timestamp() * 1000),
        key=f"{NUMBER}:{CUSTOMER}".encode(),
        value=intent.model_dump_json().encode(),
        headers=tuple(
            deadletters.headers(
                "PermanentError: the database said no",
                "wagate-policy",
                topic=source,
                partition=3,
                offset=41,
            )
        ),
    )


def batch_of(events: list[Event], records: list[DeadLetter] = ()) -> Batch:  # type: ignore[assignment]
    batch = Batch()
    for event in events:
        project(batch, event)
    for record in records:
        dead_letter(batch, record)
    return batch
