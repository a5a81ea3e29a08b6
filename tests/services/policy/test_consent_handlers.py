"""Consent through the handlers, over dict tables: every source recorded for the business (its
WABA or portfolio), not one number; times bounded by their receipt; facts policy cannot use
refused; records of the earlier per-number shape still read; and what decisions then say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.policy.caps import Caps
from services.policy.consent import ConsentRules
from services.policy.errors import UnusableFact
from services.policy.rules import PolicyConfig
from shared import codec
from shared.events.consent import ConsentChanged
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.events.preferences import UserPreferenceChanged
from shared.events.template_states import ParameterSpec, TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived
from tests.services.policy.test_handlers import Harness

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
WABA = "102290129340398"
SHOP, DESK = "106540352242922", "106540352242933"  # two numbers of one WABA
ELSEWHERE = "999000111222333"  # a number of another WABA
CUSTOMER = "16045551234"
NO_CAPS = Caps(per_day=0, per_week=0)  # caps are not what these tests are about
CONFIG = PolicyConfig(default_waba_id=WABA, waba_ids={ELSEWHERE: "555"}, caps=NO_CAPS)


def _templates(*categories: str) -> dict[str, Any]:
    states = [
        TemplateStateChanged(
            waba_id=waba,
            name=category.lower(),
            language="en_US",
            category=category,
            status="APPROVED",
            parameters=ParameterSpec(body_count=1 if category == "AUTHENTICATION" else 0),
        )
        for category in categories
        for waba in (WABA, "555")
    ]
    return {s.key: s.model_dump(mode="json") for s in states}


def harness(config: PolicyConfig = CONFIG) -> Harness:
    return Harness(config, templates=_templates("MARKETING", "UTILITY", "AUTHENTICATION"))


def consent_event(opted_in: bool, at: datetime, **fields: Any) -> ConsentChanged:
    values: dict[str, Any] = {
        "customer": CUSTOMER,
        "phone_number_id": SHOP,
        "category": "all",
        "source": "checkout form",
    }
    return ConsentChanged(opted_in=opted_in, occurred_at=at, **{**values, **fields})


def message(
    number: str,
    at: datetime,
    kind: str = "text",
    text: str | None = None,
    content: dict[str, Any] | None = None,
) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id=number,
        wa_id=CUSTOMER,
        message_id=f"wamid.{number}.{at.timestamp()}",
        timestamp=at,
        occurred_at=at,
        message_type=kind,
        text=text,
        content=content or ({"body": text} if text else {}),
        context_message_id="wamid.template" if kind == "button" else None,
    )


CODE = [{"type": "body", "parameters": [{"type": "text", "text": "739201"}]}]


async def decide(h: Harness, number: str, category: str, intent_id: str | None = None) -> Any:
    components = CODE if category == "AUTHENTICATION" else []
    intent = OutboundIntentSubmitted(
        intent_id=intent_id or f"{number}-{category}-{len(h.sent)}",
        phone_number_id=number,
        to=CUSTOMER,
        content=TemplateContent(name=category.lower(), language="en_US", components=components),
    )
    key = conversation_key(number, CUSTOMER)
    await h.handlers.on_intent(intent, key.encode(), codec.encode(intent))
    return h.decisions()[-1]


def reasons(decision: Any) -> list[str]:
    return list(decision.reasons) if decision.outcome == "rejected" else []


async def test_a_stop_typed_on_one_number_stops_the_businesss_other_numbers() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW - 2 * H))
    assert reasons(await decide(h, DESK, "UTILITY")) == []
    await h.handlers.on_inbound(message(SHOP, NOW - H, text="STOP"), partition=3)
    for number in (SHOP, DESK):
        for category in ("MARKETING", "UTILITY", "AUTHENTICATION"):
            assert reasons(await decide(h, number, category)) == ["OPTED_OUT"]
    # another WABA is another business: its consent is its own
    assert reasons(await decide(h, ELSEWHERE, "UTILITY")) == ["NO_OPT_IN"]
    detail = h.decisions()[-2].detail
    assert "keyword 'stop'" in detail and f"to {SHOP}" in detail and "START" in detail
    assert h.metric("wagate_policy_consent_updated_total", source="keyword") == 1


async def test_start_lifts_the_stop_and_the_opt_in_recorded_before_holds_again() -> None:
    h = harness()
    await h.handlers.on_inbound(message(SHOP, NOW - 3 * H, text="stop"))
    h.handlers.on_consent(consent_event(True, NOW - 2 * H))  # the business opts in later
    assert reasons(await decide(h, DESK, "UTILITY")) == ["OPTED_OUT"]
    await h.handlers.on_inbound(message(DESK, NOW - H, text="Start"))
    assert reasons(await decide(h, SHOP, "UTILITY")) == []


async def test_start_alone_never_opts_in() -> None:
    h = harness()
    for word in ("Start", "subscribe", "iniciar"):
        await h.handlers.on_inbound(message(SHOP, NOW - H, text=word))
    for category in ("MARKETING", "UTILITY", "AUTHENTICATION"):
        assert reasons(await decide(h, SHOP, category)) == ["NO_OPT_IN"]


async def test_an_opt_out_quick_reply_stops_marketing_only() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW - 2 * H))
    tap = message(
        SHOP, NOW - H, kind="button", content={"payload": "PROMO_OFF", "text": "Stop promotions"}
    )
    await h.handlers.on_inbound(tap)
    assert reasons(await decide(h, DESK, "MARKETING")) == ["MARKETING_OPTED_OUT"]
    assert reasons(await decide(h, DESK, "UTILITY")) == []
    assert "quick reply 'stop promotions'" in h.decisions()[-2].detail
    assert h.metric("wagate_policy_consent_updated_total", source="quick_reply") == 1


async def test_an_interactive_reply_with_a_configured_id_stops_its_category() -> None:
    rules = ConsentRules(opt_out_replies={"no_reminders": "utility"})
    h = harness(PolicyConfig(default_waba_id=WABA, consent=rules, caps=NO_CAPS))
    h.handlers.on_consent(consent_event(True, NOW - 2 * H))
    reply = {"type": "button_reply", "button_reply": {"id": "NO_REMINDERS", "title": "No"}}
    await h.handlers.on_inbound(message(SHOP, NOW - H, kind="interactive", content=reply))
    assert reasons(await decide(h, DESK, "UTILITY")) == ["OPTED_OUT"]
    assert reasons(await decide(h, DESK, "MARKETING")) == []


def _preference(value: str, at: datetime, number: str = SHOP) -> UserPreferenceChanged:
    return UserPreferenceChanged(
        waba_id=WABA,
        phone_number_id=number,
        wa_id=CUSTOMER,
        category="marketing_messages",
        value=value,
        timestamp=at,
        occurred_at=at,
    )


async def test_a_user_preferences_stop_outranks_a_later_opt_in_until_resumed() -> None:
    h = harness()
    h.handlers.on_preference(_preference("stop", NOW - 3 * H))
    h.handlers.on_consent(consent_event(True, NOW - 2 * H, category="marketing"))
    assert reasons(await decide(h, DESK, "MARKETING")) == ["MARKETING_OPTED_OUT"]
    h.handlers.on_preference(_preference("resume", NOW - H, number=DESK))
    assert reasons(await decide(h, SHOP, "MARKETING")) == []
    h.handlers.on_preference(_preference("pause", NOW))  # a value Meta may add: kept unread
    assert reasons(await decide(h, SHOP, "MARKETING")) == []


async def test_a_131050_from_dispatch_stops_marketing_for_the_business() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW - 2 * H))
    h.handlers.on_consent(
        consent_event(
            False, NOW - H, category="marketing", source="send_error:131050", intent_id="i-9"
        )
    )
    decision = await decide(h, DESK, "MARKETING")
    assert reasons(decision) == ["MARKETING_OPTED_OUT"]
    assert "send_error:131050" in decision.detail and "intent i-9" in decision.detail
    assert reasons(await decide(h, DESK, "UTILITY")) == []


async def test_a_wabas_consent_event_with_no_number_covers_its_numbers() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW - H, phone_number_id="", waba_id=WABA))
    assert reasons(await decide(h, DESK, "UTILITY")) == []


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        pytest.param({"phone_number_id": "", "waba_id": "777"}, "WABA 777 is not", id="unknown"),
        pytest.param({"waba_id": "555"}, "belongs to WABA", id="another-wabas-number"),
        pytest.param({"category": "service", "opted_in": True}, "'service'", id="opt-in-category"),
        pytest.param({"customer": "+ -"}, "not a WhatsApp id", id="no-customer"),
    ],
)
def test_a_fact_policy_cannot_use_is_refused_with_why(fields: dict[str, Any], says: str) -> None:
    h = harness()
    event = consent_event(fields.pop("opted_in", False), NOW, **fields)
    with pytest.raises(UnusableFact, match=says):
        h.handlers.on_consent(event)
    assert h.tables.consent == {}


async def test_an_opt_out_of_a_category_policy_does_not_know_stops_everything() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW - 2 * H))
    h.handlers.on_consent(consent_event(False, NOW - H, category="service"))
    assert reasons(await decide(h, SHOP, "UTILITY")) == ["OPTED_OUT"]


async def test_consent_in_the_future_counts_as_received_now() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW + timedelta(days=3650)))
    late = NOW + timedelta(seconds=60)  # inside the skew: kept as said
    h.handlers.on_consent(consent_event(False, late))  # a later real opt-out still wins
    assert reasons(await decide(h, SHOP, "UTILITY")) == ["OPTED_OUT"]
    assert h.metric("wagate_policy_future_timestamps_total", fact="consent") == 1


async def test_consent_kept_per_portfolio_covers_every_waba_of_it() -> None:
    rules = ConsentRules(scope="portfolio", default_portfolio_id="p-1")
    h = harness(
        PolicyConfig(default_waba_id=WABA, waba_ids={ELSEWHERE: "555"}, consent=rules, caps=NO_CAPS)
    )
    h.handlers.on_consent(consent_event(True, NOW - 2 * H))
    assert reasons(await decide(h, ELSEWHERE, "UTILITY")) == []
    await h.handlers.on_inbound(message(ELSEWHERE, NOW - H, text="STOP"))
    assert reasons(await decide(h, SHOP, "UTILITY")) == ["OPTED_OUT"]


async def test_free_form_replies_need_no_opt_in_and_pass_a_stop() -> None:
    h = harness()
    await h.handlers.on_inbound(message(SHOP, NOW - H, text="STOP"))
    for category, outcome in (
        (None, "approved"),
        ("utility", "approved"),
        ("marketing", "rejected"),
    ):
        intent = OutboundIntentSubmitted(
            intent_id=f"reply-{category}",
            phone_number_id=SHOP,
            to=CUSTOMER,
            content=TextContent(body="You will not hear from us again."),
            category=category,  # type: ignore[arg-type]
        )
        await h.handlers.on_intent(intent, conversation_key(SHOP, CUSTOMER).encode(), b"")
        assert h.decisions()[-1].outcome == outcome


async def test_an_authentication_code_stays_redacted_when_consent_refuses_it() -> None:
    h = harness()
    intent = OutboundIntentSubmitted(
        intent_id="otp",
        phone_number_id=SHOP,
        to=CUSTOMER,
        content=TemplateContent(
            name="authentication",
            language="en_US",
            components=CODE,
        ),
    )
    await h.handlers.on_intent(intent, conversation_key(SHOP, CUSTOMER).encode(), b"")
    [(_, value)] = h.emitted("decision")
    assert b"739201" not in value
    assert h.decisions()[0].reasons == ["NO_OPT_IN"]


async def test_a_future_message_time_opens_the_window_only_from_its_receipt() -> None:
    h = harness()
    late = message(SHOP, NOW, text="hi").model_copy(
        update={"timestamp": datetime(2999, 1, 1, tzinfo=UTC), "occurred_at": NOW - H}
    )
    await h.handlers.on_inbound(late)
    view = h.handlers.window_view(SHOP, CUSTOMER)
    assert view["last_customer_message_at"] == "2026-03-02T09:00:00Z"
    assert h.metric("wagate_policy_future_timestamps_total", fact="window") == 1
    within = message(SHOP, NOW, text="hi").model_copy(
        update={"timestamp": NOW + timedelta(seconds=60)}
    )
    await h.handlers.on_inbound(within)  # inside the skew: Meta's time stands
    assert (
        h.handlers.window_view(SHOP, CUSTOMER)["last_customer_message_at"] == "2026-03-02T10:01:00Z"
    )
    assert h.metric("wagate_policy_future_timestamps_total", fact="window") == 1


EARLIER = {
    "marketing": {"opted_in": True, "at": "2026-03-01T10:00:00Z", "source": "crm"},
    "everything": None,
}


async def test_records_of_the_earlier_per_number_shape_are_still_read() -> None:
    listed = PolicyConfig(default_waba_id=WABA, waba_ids={SHOP: WABA, DESK: WABA}, caps=NO_CAPS)
    h = Harness(
        listed,
        templates=_templates("MARKETING", "UTILITY"),
        consent={conversation_key(SHOP, CUSTOMER): EARLIER},
    )
    assert reasons(await decide(h, SHOP, "MARKETING")) == []
    assert reasons(await decide(h, DESK, "MARKETING")) == []  # a number listed in the WABA
    assert reasons(await decide(h, SHOP, "UTILITY")) == ["NO_OPT_IN"]
    await h.handlers.on_inbound(message(DESK, NOW, text="STOP"))
    assert reasons(await decide(h, SHOP, "MARKETING")) == ["OPTED_OUT"]


async def test_the_consent_view_shows_the_facts_and_each_categorys_stance() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW - H, category="marketing"))
    view = h.handlers.consent_view(DESK, CUSTOMER)
    assert view["scope"] == f"waba:{WABA}"
    assert view["business"]["marketing"]["source"] == "checkout form"
    assert view["marketing_allowed"] is True
    assert view["templates"]["utility"] == {
        "allowed": False,
        "reason": "NO_OPT_IN",
        "detail": f"no opt-in to utility messages (or to all) is recorded for this customer "
        f"with waba:{WABA}",
    }


async def test_facts_from_different_partitions_are_kept_apart_and_merged() -> None:
    h = harness()
    h.handlers.on_consent(consent_event(True, NOW - 3 * H), partition=1)
    await h.handlers.on_inbound(message(SHOP, NOW - 2 * H, text="STOP"), partition=7)
    await h.handlers.on_inbound(message(DESK, NOW - H, text="START"), partition=2)
    assert sorted(h.tables.consent) == [
        f"waba:{WABA}|{CUSTOMER}|1",
        f"waba:{WABA}|{CUSTOMER}|2",
        f"waba:{WABA}|{CUSTOMER}|7",
    ]
    assert reasons(await decide(h, DESK, "UTILITY")) == []
