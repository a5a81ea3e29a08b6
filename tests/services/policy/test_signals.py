"""Calls, standby and handovers feed policy (rules §3.1, §9.6): the pure thread and window
rules as tables, then the handlers over dict tables: a customer who only called may get a
free-form reply, an intent to a thread Meta's agent holds is rejected unless it takes control,
and a send that took control gives the thread back to this app."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.policy import rules, threads, windows
from services.policy.rules import Facts, PolicyConfig
from services.policy.threads import ThreadRules, ThreadState
from services.policy.windows import WindowState
from shared import codec
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.events.reasons import Reason
from shared.events.signals import CallReported, ThreadControlChanged
from shared.events.webhooks import InboundMessageReceived
from tests.services.policy.test_handlers import Harness

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
PNID = "106540352242922"
CUSTOMER = "16505551234"
KEY = conversation_key(PNID, CUSTOMER)


def held(by: str, ago: timedelta = H) -> ThreadState:
    return ThreadState(held_by=by, since=NOW - ago, signal="test")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "by", "at", "expected"),
    [
        (None, "agent", NOW, "agent"),
        (None, "business", NOW, "business"),
        (held("agent"), "business", NOW, "business"),
        (held("business"), "agent", NOW, "agent"),
        (held("agent"), "business", NOW - 2 * H, None),  # older than what we know: ignored
        (held("agent", ago=timedelta(0)), "agent", NOW, None),  # said again: no change
        (held("agent", ago=timedelta(0)), "business", NOW, "business"),  # same instant, new
    ],
)
def test_the_latest_signal_says_who_holds_the_thread(
    state: ThreadState | None, by: str, at: datetime, expected: str | None
) -> None:
    after = threads.observe(state, by, at, "signal")  # type: ignore[arg-type]
    assert (after.held_by if after else None) == expected


def intent(take: bool = False, template: bool = False) -> OutboundIntentSubmitted:
    content: Any = (
        TemplateContent(name="order_update", language="en_US")
        if template
        else TextContent(body="Thanks for calling")
    )
    return OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=content, take_control=take
    )


@pytest.mark.parametrize(
    ("state", "take", "template", "rules_", "refused", "takes_over"),
    [
        (None, False, False, ThreadRules(), False, False),
        (held("business"), False, False, ThreadRules(), False, False),
        (held("agent"), False, False, ThreadRules(), True, False),
        (held("agent"), True, False, ThreadRules(), False, True),
        (held("agent"), False, True, ThreadRules(), True, False),
        (held("agent"), True, True, ThreadRules(), False, True),
        (held("agent"), False, True, ThreadRules(templates_too=False), False, False),
        (held("agent", ago=25 * H), False, False, ThreadRules(), False, False),  # idle
        (held("agent", ago=25 * H), False, False, ThreadRules(idle_after=48 * H), True, False),
    ],
)  # fmt: skip
def test_an_intent_to_a_thread_the_agent_holds_needs_take_control(
    state: ThreadState | None,
    take: bool,
    template: bool,
    rules_: ThreadRules,
    refused: bool,
    takes_over: bool,
) -> None:
    check = threads.check(intent(take, template), state, NOW, rules_)
    assert (check.refused, check.takes_over) == (refused, takes_over)
    if refused:
        assert "take_control" in check.detail


@pytest.mark.parametrize(
    ("state", "at", "expected"),
    [
        (None, NOW, NOW),
        (WindowState(last_customer_message_at=NOW - 30 * H), NOW, NOW),
        (WindowState(last_customer_message_at=NOW), NOW - H, None),  # an older call
        (WindowState(last_customer_message_at=NOW), NOW, None),
    ],
)
def test_a_call_opens_or_refreshes_the_window_like_a_message(
    state: WindowState | None, at: datetime, expected: datetime | None
) -> None:
    after = windows.called(state, at)
    assert (after.last_customer_message_at if after else None) == expected


def test_a_call_is_not_a_message_a_read_receipt_may_name() -> None:
    before = WindowState(last_customer_message_at=NOW - H, last_message_id="wamid.in",
                         recent_message_ids=("wamid.in",))  # fmt: skip
    after = windows.called(before, NOW)
    assert after is not None and after.is_open(NOW)
    assert windows.sent_by_customer(after, "wamid.in")
    assert not windows.sent_by_customer(after, "wacid.1")


def test_decide_rejects_with_the_reason_and_approves_with_take_control() -> None:
    facts = Facts(window=WindowState(last_customer_message_at=NOW - H), thread=held("agent"))
    refused = rules.decide(intent(), facts, NOW, PolicyConfig())
    assert (refused.outcome, refused.reasons) == ("rejected", [Reason.THREAD_HELD_BY_AGENT])
    taken = rules.decide(intent(take=True), facts, NOW, PolicyConfig())
    assert (taken.outcome, taken.takes_thread) == ("approved", True)
    assert "takes it over as it is sent" in taken.detail
    closed = Facts(thread=held("agent"))  # take_control never opens a closed window
    assert rules.decide(intent(take=True), closed, NOW, PolicyConfig()).reasons == [
        Reason.WINDOW_CLOSED
    ]


def call(direction: str, event: str, at: datetime = NOW - H) -> CallReported:
    return CallReported(
        phone_number_id=PNID, wa_id=CUSTOMER, call_id=f"wacid.{direction}.{event}",
        direction=direction, event=event, timestamp=at, occurred_at=NOW,
    )  # fmt: skip


async def decided(h: Harness, sent: OutboundIntentSubmitted) -> Any:
    await h.handlers.on_intent(sent, KEY.encode(), codec.encode(sent))
    return h.decisions()[-1]


@pytest.mark.parametrize(
    ("direction", "event", "outcome"),
    [
        ("USER_INITIATED", "connect", "approved"),
        ("BUSINESS_INITIATED", "accepted", "approved"),
        ("BUSINESS_INITIATED", "connect", "rejected"),
        ("BUSINESS_INITIATED", "ringing", "rejected"),
        ("BUSINESS_INITIATED", "rejected", "rejected"),
        ("USER_INITIATED", "terminate", "rejected"),
    ],
)
async def test_a_customer_who_only_called_gets_a_free_form_reply(
    direction: str, event: str, outcome: str
) -> None:
    h = Harness()
    await h.handlers.on_call(call(direction, event))
    decision = await decided(h, intent())
    assert decision.outcome == outcome
    if outcome == "approved":
        assert h.windows()[0].change == "opened"
        assert decision.window.last_customer_message_at == NOW - H
    else:
        assert decision.reasons == [Reason.WINDOW_CLOSED]


async def test_a_call_timestamp_ahead_of_the_clock_opens_no_longer_window() -> None:
    h = Harness()
    await h.handlers.on_call(call("USER_INITIATED", "connect", at=NOW + 48 * H))
    assert h.handlers.window(KEY).last_customer_message_at == NOW  # type: ignore[union-attr]


def handover(change: str, held_by: str, at: datetime) -> ThreadControlChanged:
    return ThreadControlChanged(
        phone_number_id=PNID, wa_id=CUSTOMER, change=change, held_by=held_by, timestamp=at,
        occurred_at=NOW,
    )  # fmt: skip


def standby_message(at: datetime, standby: bool = True) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id=PNID, wa_id=CUSTOMER, message_id=f"wamid.{at.timestamp()}.{standby}",
        timestamp=at, message_type="text", text="hello", standby=standby,
    )  # fmt: skip


async def test_an_agent_held_thread_rejects_then_take_control_goes_and_gives_it_back() -> None:
    h = Harness()
    await h.handlers.on_inbound(standby_message(NOW - H))  # the agent holds it; window opens
    first = await decided(h, intent())
    assert (first.outcome, first.reasons) == ("rejected", [Reason.THREAD_HELD_BY_AGENT])
    taken = await decided(h, intent(take=True).model_copy(update={"intent_id": "i-2"}))
    assert taken.outcome == "approved" and "takes it over" in taken.detail
    assert h.tables.threads[KEY]["held_by"] == "business"
    after = await decided(h, intent().model_copy(update={"intent_id": "i-3"}))
    assert after.outcome == "approved"


@pytest.mark.parametrize(
    ("signals", "outcome"),
    [
        ([("control_taken", "agent", NOW - H)], "rejected"),
        ([("control_taken", "agent", NOW - 2 * H), ("control_passed", "business", NOW - H)],
         "approved"),
        ([("control_passed", "business", NOW - H), ("control_taken", "agent", NOW - 2 * H)],
         "approved"),  # a late, older handover changes nothing
        ([("control_passed", "business", NOW - 2 * H), ("control_taken", "agent", NOW - H)],
         "rejected"),
    ],
)  # fmt: skip
async def test_handovers_decide_who_holds_the_thread(
    signals: list[tuple[str, str, datetime]], outcome: str
) -> None:
    h = Harness()
    await h.handlers.on_inbound(standby_message(NOW - 3 * H, standby=False))
    for change, by, at in signals:
        h.handlers.on_thread_control(handover(change, by, at))
    assert (await decided(h, intent())).outcome == outcome


async def test_a_customer_message_on_messages_after_standby_means_this_app_answers() -> None:
    h = Harness()
    await h.handlers.on_inbound(standby_message(NOW - 2 * H))
    await h.handlers.on_inbound(standby_message(NOW - H, standby=False))
    assert (await decided(h, intent())).outcome == "approved"


async def test_standby_opening_the_window_is_configurable() -> None:
    h = Harness(PolicyConfig(standby_opens_window=False))
    await h.handlers.on_inbound(standby_message(NOW - H))
    assert h.handlers.window(KEY) is None
    decision = await decided(h, intent(take=True))
    assert decision.reasons == [Reason.WINDOW_CLOSED]
