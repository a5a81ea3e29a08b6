"""Read receipts (with or without a typing indicator): approved only inside the window, less the
margin, for a message policy saw the customer send here; never priced, never a reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.validated import read
from services.policy.windows import RECENT_MESSAGES, WindowState, observe
from shared import codec
from shared.events.intents import (
    OutboundIntentSubmitted,
    ReadReceiptContent,
    Redecision,
    TemplateContent,
)
from shared.events.keys import conversation_key
from shared.events.webhooks import InboundMessageReceived
from tests.services.policy.test_handlers import Harness

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CONFIG = PolicyConfig(window_safety_margin=timedelta(seconds=60))
H = timedelta(hours=1)


def _intent(message_id: str = "wamid.IN1", **extra: object) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted.model_validate(
        {
            "intent_id": "r-1",
            "phone_number_id": "1",
            "to": "16505551234",
            "content": ReadReceiptContent(message_id=message_id, typing_indicator=True),
            **extra,
        }
    )


def _window(last: datetime | None, *ids: str) -> WindowState:
    return WindowState(
        last_customer_message_at=last, last_message_id=ids[-1] if ids else None,
        recent_message_ids=ids,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("window", "message_id", "outcome", "reasons"),
    [
        (_window(NOW - H, "wamid.IN1"), "wamid.IN1", "approved", []),
        (_window(NOW - H, "wamid.IN0", "wamid.IN1"), "wamid.IN0", "approved", []),  # an earlier one
        (_window(NOW - H, "wamid.IN1"), "wamid.OTHER", "rejected", ["MESSAGE_UNKNOWN"]),
        (_window(NOW - 25 * H, "wamid.IN1"), "wamid.IN1", "rejected", ["WINDOW_CLOSED"]),
        (  # inside the safety margin before the end
            _window(NOW - 24 * H + timedelta(seconds=30), "wamid.IN1"),
            "wamid.IN1",
            "rejected",
            ["WINDOW_CLOSED"],
        ),
        (None, "wamid.IN1", "rejected", ["WINDOW_CLOSED"]),
        (WindowState(), "wamid.IN1", "rejected", ["WINDOW_CLOSED"]),
    ],
)
def test_read_receipt_decisions(
    window: WindowState | None, message_id: str, outcome: str, reasons: list[str]
) -> None:
    verdict = decide(_intent(message_id), Facts(window=window), NOW, CONFIG)
    assert (verdict.outcome, verdict.reasons) == (outcome, reasons)
    assert verdict.pricing is None and not verdict.business_initiated and not verdict.marketing


def test_the_approval_ends_with_the_window_or_not_after() -> None:
    window = _window(NOW - H, "wamid.IN1")
    verdict = decide(_intent(), Facts(window=window), NOW, CONFIG)
    assert verdict.valid_until == NOW + 23 * H - timedelta(seconds=60)
    assert verdict.receipt
    soon = NOW + timedelta(minutes=5)
    early = decide(_intent(not_after=soon), Facts(window=window), NOW, CONFIG)
    assert early.valid_until == soon


def test_meta_refusing_the_window_is_believed() -> None:
    window = _window(NOW - H, "wamid.IN1")
    back = _intent(redecision=Redecision(count=1, reason="131047"))
    verdict = decide(back, Facts(window=window), NOW, CONFIG)
    assert (verdict.outcome, verdict.reasons) == ("rejected", ["WINDOW_CLOSED"])


def test_a_receipt_opens_no_free_entry_point() -> None:
    """A read receipt is no reply: the offer of a click-to-WhatsApp referral stays open."""
    window = _window(NOW - H, "wamid.IN1").model_copy(update={"referral_at": NOW - H})
    verdict = decide(_intent(), Facts(window=window), NOW, CONFIG)
    assert verdict.outcome == "approved" and verdict.receipt


@pytest.mark.parametrize(
    "extra",
    [
        {"reply_to": "wamid.X"},
        {"fallback_template": TemplateContent(name="hello", language="en_US")},
    ],
)
def test_a_receipt_takes_no_reply_context_or_fallback(extra: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="read receipt"):
        _intent(**extra)


@pytest.mark.parametrize("message_id", ["", "x" * 257])
def test_a_receipt_needs_a_message_id(message_id: str) -> None:
    with pytest.raises(ValidationError):
        ReadReceiptContent(message_id=message_id)


def _inbound(message_id: str, at: datetime) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id="1", wa_id="16505551234", message_id=message_id, timestamp=at,
        message_type="text", text="hi",
    )  # fmt: skip


def test_policy_remembers_the_latest_messages_only() -> None:
    state: WindowState | None = None
    for n in range(RECENT_MESSAGES + 5):
        state = observe(state, _inbound(f"wamid.{n}", NOW - H + n * timedelta(seconds=1)))
    assert state is not None and len(state.recent_message_ids) == RECENT_MESSAGES
    last = f"wamid.{RECENT_MESSAGES + 4}"
    assert decide(_intent(last), Facts(window=state), NOW, CONFIG).outcome == "approved"
    forgotten = decide(_intent("wamid.0"), Facts(window=state), NOW, CONFIG)
    assert forgotten.reasons == ["MESSAGE_UNKNOWN"]


async def test_the_handler_approves_a_receipt_for_a_message_it_saw_and_opens_no_offer() -> None:
    h = Harness(now=NOW)
    ad = _inbound("wamid.AD", NOW - H).model_copy(
        update={"referral": {"source_type": "ad", "ctwa_clid": "x"}}
    )
    await h.handlers.on_inbound(ad)
    key = conversation_key("1", "16505551234")
    receipt = _intent("wamid.AD")
    await h.handlers.on_intent(receipt, key.encode(), codec.encode(receipt))
    stranger = _intent("wamid.NEVER").model_copy(update={"intent_id": "r-2"})
    await h.handlers.on_intent(stranger, key.encode(), codec.encode(stranger))
    decisions = h.decisions()
    assert [(d.outcome, d.reasons) for d in decisions] == [
        ("approved", []),
        ("rejected", ["MESSAGE_UNKNOWN"]),
    ]
    assert decisions[0].pricing is None
    assert decisions[0].intent.content == receipt.content
    window = read(WindowState, h.tables.windows[key])
    assert window.free_entry_until is None  # a receipt is no reply: the offer stays open
