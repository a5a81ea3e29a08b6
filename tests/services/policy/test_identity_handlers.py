"""Policy decides on one customer however Meta or the business names them: a customer known
only by BSUID gets replies by `recipient`, a phone customer seen later with a BSUID keeps one
window and one consent record, a number change moves the window, an authentication template
never goes to a BSUID, and nothing is shared across portfolios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.policy.consent import ConsentRules
from services.policy.rules import PolicyConfig
from shared import codec
from shared.events.consent import ConsentChanged
from shared.events.decisions import Address, PolicyDecisionMade
from shared.events.identity import CustomerIdentity, CustomerIdentityChanged
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.events.preferences import UserPreferenceChanged
from shared.events.template_states import ParameterSpec, TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from tests.services.policy.test_handlers import Harness

NOW = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
PNID, OTHER_PNID = "106540352242922", "206540352242922"
WABA, OTHER_WABA = "102290129340398", "202290129340398"
PHONE, NEW_PHONE = "5511987654321", "5511912345678"
BSUID, NEW_BSUID = "BR.8841203376615520", "BR.5500112233445566"
CONFIG = PolicyConfig(
    waba_ids={PNID: WABA, OTHER_PNID: OTHER_WABA},
    default_waba_id=WABA,
    consent=ConsentRules(
        portfolio_ids={WABA: "portfolio-a", OTHER_WABA: "portfolio-b"},
        default_portfolio_id="portfolio-a",
    ),
)


def harness() -> Harness:
    h = Harness(CONFIG, now=NOW)
    for name, category, count in (
        ("login_code", "AUTHENTICATION", 1),
        ("order_update", "MARKETING", 0),
    ):
        h.handlers.on_template_state(
            TemplateStateChanged(
                waba_id=WABA,
                name=name,
                language="en_US",
                category=category,
                status="APPROVED",
                parameters=ParameterSpec(body_count=count),
            )
        )
    return h


def inbound(wamid: str, pnid: str = PNID, text: str = "hi", **who: str) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id=pnid,
        message_id=wamid,
        timestamp=NOW - H,
        message_type="text",
        text=text,
        **who,
    )


def text_to(pnid: str = PNID, intent_id: str = "i-1", **address: str) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id, phone_number_id=pnid, content=TextContent(body="Olá"), **address
    )


def template_to(name: str, intent_id: str = "t-1", **address: str) -> OutboundIntentSubmitted:
    code = [{"type": "body", "parameters": [{"type": "text", "text": "739201"}]}]
    return OutboundIntentSubmitted(
        intent_id=intent_id,
        phone_number_id=PNID,
        content=TemplateContent(
            name=name, language="en_US", components=code if name == "login_code" else []
        ),
        **address,
    )


async def decide(h: Harness, intent: OutboundIntentSubmitted, key: str) -> PolicyDecisionMade:
    before = len(h.decisions())
    await h.handlers.on_intent(intent, key.encode(), codec.encode(intent))
    decisions = h.decisions()
    assert len(decisions) == before + 1, h.emitted("reroute")
    return decisions[-1]


Who = CustomerIdentity


def changed(kind: str, previous: Who, current: Who) -> CustomerIdentityChanged:
    return CustomerIdentityChanged(
        phone_number_id=PNID, change=kind, previous=previous, current=current, timestamp=NOW
    )


def opt_in(customer: str) -> ConsentChanged:
    return ConsentChanged(
        phone_number_id=PNID,
        customer=customer,
        category="all",
        opted_in=True,
        occurred_at=NOW - 2 * H,
        source="signup form",
    )


async def test_a_customer_known_only_by_bsuid_gets_a_reply_by_recipient() -> None:
    h = harness()
    await h.handlers.on_inbound(inbound("wamid.1", user_id=BSUID, username="@ana.r"))

    decision = await decide(h, text_to(recipient=BSUID), conversation_key(PNID, BSUID))

    assert decision.outcome == "approved", decision.detail
    assert decision.address == Address(field="recipient", value=BSUID)
    assert decision.customer_key == BSUID
    assert [w.wa_id for w in h.windows()] == [BSUID]  # never a digits-only fake phone


async def test_a_phone_customer_seen_later_with_a_bsuid_has_one_window_and_one_consent() -> None:
    h = harness()
    h.handlers.on_consent(opt_in(PHONE))
    await h.handlers.on_inbound(inbound("wamid.1", wa_id=PHONE))
    await h.handlers.on_inbound(inbound("wamid.2", wa_id=PHONE, user_id=BSUID))

    by_bsuid = text_to(recipient=BSUID)
    await h.handlers.on_intent(by_bsuid, conversation_key(PNID, BSUID).encode(), b"raw")
    assert h.emitted("reroute") == [(conversation_key(PNID, PHONE), b"raw")]
    decision = await decide(h, by_bsuid, conversation_key(PNID, PHONE))
    assert decision.outcome == "approved" and decision.customer_key == PHONE
    assert decision.address == Address(field="recipient", value=BSUID)

    # a stop written from the username (no phone) is the phone customer's stop
    await h.handlers.on_inbound(inbound("wamid.3", user_id=BSUID, text="STOP"))
    refused = await decide(h, template_to("order_update", to=PHONE), conversation_key(PNID, PHONE))
    assert refused.outcome == "rejected" and refused.reasons == ["OPTED_OUT"], refused.detail
    assert h.handlers.consent_view(PNID, BSUID) == h.handlers.consent_view(PNID, PHONE)
    assert len([k for k in h.tables.windows if str(k).startswith(f"{PNID}:")]) == 1


async def test_an_authentication_template_never_goes_to_a_bsuid() -> None:
    h = harness()
    h.handlers.on_consent(opt_in(BSUID))
    await h.handlers.on_inbound(inbound("wamid.1", user_id=BSUID))

    refused = await decide(h, template_to("login_code", recipient=BSUID), f"{PNID}:{BSUID}")
    assert (refused.outcome, refused.reasons) == ("rejected", ["BSUID_AUTHENTICATION"])
    assert refused.address is None

    # once Meta reports the customer's phone beside the BSUID, the code goes to the phone
    await h.handlers.on_inbound(inbound("wamid.2", wa_id=PHONE, user_id=BSUID))
    sent = await decide(
        h, template_to("login_code", "t-2", recipient=BSUID), conversation_key(PNID, BSUID)
    )
    assert sent.outcome == "approved", sent.detail
    assert sent.address == Address(field="to", value=PHONE)


async def test_a_number_change_moves_the_window_once_and_frees_the_old_number() -> None:
    h = harness()
    await h.handlers.on_inbound(inbound("wamid.1", wa_id=PHONE, user_id=BSUID))
    notice = changed(
        "user_changed_number",
        Who(wa_id=PHONE, user_id=BSUID),
        Who(wa_id=NEW_PHONE, user_id=NEW_BSUID),
    )
    h.handlers.on_identity(notice)
    h.handlers.on_identity(notice)  # Meta redelivers it

    moved = await decide(h, text_to(to=NEW_PHONE), conversation_key(PNID, NEW_PHONE))
    assert moved.outcome == "approved", moved.detail
    old = await decide(h, text_to(to=PHONE, intent_id="i-2"), conversation_key(PNID, PHONE))
    assert old.reasons == ["WINDOW_CLOSED"]
    assert list(h.tables.windows) == [conversation_key(PNID, NEW_PHONE)]


async def test_a_bsuid_change_moves_a_customer_known_only_by_bsuid() -> None:
    h = harness()
    await h.handlers.on_inbound(inbound("wamid.1", user_id=BSUID))
    h.handlers.on_identity(
        changed("user_changed_user_id", Who(user_id=BSUID), Who(user_id=NEW_BSUID))
    )

    decision = await decide(h, text_to(recipient=NEW_BSUID), conversation_key(PNID, NEW_BSUID))
    assert decision.outcome == "approved", decision.detail


async def test_a_wa_id_differing_from_the_number_on_file_is_linked_only_when_meta_says_so() -> None:
    h = harness()
    on_file = "551187654321"  # no ninth digit
    await h.handlers.on_inbound(inbound("wamid.1", wa_id=PHONE))

    guessed = await decide(h, text_to(to=on_file), conversation_key(PNID, on_file))
    assert guessed.reasons == ["WINDOW_CLOSED"]  # no digit guessing

    h.handlers.on_identity(changed("send_response", Who(wa_id=on_file), Who(wa_id=PHONE)))
    await h.handlers.on_intent(
        text_to(to=on_file, intent_id="i-2"), f"{PNID}:{on_file}".encode(), b"r"
    )
    assert h.emitted("reroute")[-1] == (conversation_key(PNID, PHONE), b"r")
    linked = await decide(h, text_to(to=on_file, intent_id="i-2"), conversation_key(PNID, PHONE))
    assert linked.outcome == "approved" and linked.address == Address(field="to", value=on_file)


async def test_a_contact_wa_id_beside_the_number_written_from_is_one_customer() -> None:
    h = harness()
    on_file = "551187654321"
    await h.handlers.on_inbound(inbound("wamid.1", wa_id=on_file, contact_wa_id=PHONE))
    await h.handlers.on_intent(text_to(to=PHONE), conversation_key(PNID, PHONE).encode(), b"r")
    assert h.emitted("reroute") == [(conversation_key(PNID, on_file), b"r")]
    decision = await decide(h, text_to(to=PHONE), conversation_key(PNID, on_file))
    assert decision.outcome == "approved", decision.detail
    assert decision.address == Address(field="to", value=PHONE)


async def test_a_status_with_phone_and_bsuid_links_them() -> None:
    h = harness()
    await h.handlers.on_inbound(inbound("wamid.1", wa_id=PHONE))
    h.handlers.on_status(
        MessageStatusReported(
            phone_number_id=PNID,
            message_id="wamid.out",
            status="delivered",
            timestamp=NOW,
            recipient_id=PHONE,
            recipient_user_id=BSUID,
        )
    )
    assert h.handlers.customers.canonical(PNID, BSUID) == PHONE


async def test_a_marketing_stop_naming_only_the_bsuid_stops_the_phone_customer() -> None:
    h = harness()
    h.handlers.on_consent(opt_in(PHONE))
    await h.handlers.on_inbound(inbound("wamid.1", wa_id=PHONE, user_id=BSUID))
    h.handlers.on_preference(
        UserPreferenceChanged(
            phone_number_id=PNID,
            user_id=BSUID,
            category="marketing_messages",
            value="stop",
            timestamp=NOW - H,
        )
    )
    refused = await decide(h, template_to("order_update", to=PHONE), conversation_key(PNID, PHONE))
    assert refused.reasons == ["MARKETING_OPTED_OUT"], refused.detail


async def test_nothing_is_linked_across_portfolios() -> None:
    h = harness()
    await h.handlers.on_inbound(inbound("wamid.1", wa_id=PHONE, user_id=BSUID))
    await h.handlers.on_inbound(inbound("wamid.2", pnid=OTHER_PNID, user_id=BSUID))
    assert h.handlers.customers.canonical(PNID, BSUID) == PHONE
    assert h.handlers.customers.canonical(OTHER_PNID, BSUID) == BSUID
    h.handlers.on_identity(
        changed("user_changed_user_id", Who(user_id=BSUID), Who(user_id=NEW_BSUID))
    )
    assert h.handlers.customers.canonical(OTHER_PNID, BSUID) == BSUID
    assert conversation_key(OTHER_PNID, BSUID) in h.tables.windows


async def test_an_impossible_number_is_rejected_with_its_reason() -> None:
    h = harness()
    decision = await decide(h, text_to(to="123"), conversation_key(PNID, "123"))
    assert decision.outcome == "rejected"
    assert decision.reasons == ["INVALID_RECIPIENT"] and "no possible number" in decision.detail


async def test_who_a_customer_is_follows_each_change_of_the_identity_table() -> None:
    h = harness()
    customers = h.handlers.customers
    assert customers.canonical(PNID, BSUID) == BSUID  # never seen: known by what names them
    assert customers.canonical(PNID, PHONE) == PHONE
    assert customers.phone(PNID, BSUID) is None
    await h.handlers.on_inbound(inbound("wamid.1", user_id=BSUID))
    assert customers.canonical(PNID, BSUID) == BSUID and customers.phone(PNID, BSUID) is None
    h.handlers.on_status(
        MessageStatusReported(
            phone_number_id=PNID, message_id="wamid.out1", status="delivered", timestamp=NOW,
            recipient_id=PHONE, recipient_user_id=BSUID,
        )
    )  # fmt: skip
    assert customers.canonical(PNID, PHONE) == BSUID  # linked: one customer
    assert customers.phone(PNID, BSUID) == PHONE
    # written behind the handlers' back (another worker's write, recovered): followed too
    h.tables.identities[f"portfolio-a|{PHONE}"] = NEW_BSUID
    h.tables.identities[f"portfolio-a#{BSUID}"] = [BSUID]
    assert customers.canonical(PNID, PHONE) == NEW_BSUID
    assert customers.phone(PNID, BSUID) is None
    assert customers.canonical(OTHER_PNID, PHONE) == PHONE  # another portfolio: unknown there
