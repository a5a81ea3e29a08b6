"""Meta's 2026 shapes (rules §9.1) become typed events with every identifier Meta gave, the
phone absent or not: messages with only `from_user_id`, statuses with only
`recipient_user_id`, `user_preferences` with only `user_id`, contacts with `user_id` and a
username, `user_changed_number` and `user_changed_user_id` notices; a malformed identifier
keeps its item on the unparsed topic with the reason."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest.normalize import normalize
from shared.events.identity import CustomerIdentity, CustomerIdentityChanged
from shared.events.preferences import UserPreferenceChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import IDENTITIES, INBOUND_MESSAGES, STATUSES, USER_PREFERENCES
from tests.services.ingest.meta_payloads import METADATA, PNID, only_event, webhook

BSUID = "BR.8841203376615520"
PARENT = "BR.ENT.99887766554433"
PHONE = "5511987654321"
Who = CustomerIdentity


def value(**arrays: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "metadata": METADATA, **arrays}


def text_message(**who: Any) -> dict[str, Any]:
    return {**who, "id": "wamid.in", "timestamp": "1780000000", "type": "text",
            "text": {"body": "Oi"}}  # fmt: skip


def test_a_username_adopter_without_a_phone_is_typed_with_bsuid_and_username() -> None:
    # Meta's own excerpt (§9.1): username adopter, phone withheld
    contacts = [{"profile": {"name": "Ana", "username": "@ana.r"}, "user_id": BSUID}]
    spec, event, key = only_event(
        webhook("messages", value(contacts=contacts, messages=[text_message(from_user_id=BSUID)]))
    )

    assert spec is INBOUND_MESSAGES and key == f"{PNID}:{BSUID}"
    assert isinstance(event, InboundMessageReceived)
    assert (event.wa_id, event.user_id, event.username, event.contact_name) == (
        None, BSUID, "@ana.r", "Ana"
    )  # fmt: skip
    assert event.identity == Who(user_id=BSUID, username="@ana.r")
    assert event.text == "Oi"


def test_a_sender_with_phone_bsuid_and_parent_keeps_all_three_keyed_by_phone() -> None:
    contacts = [{"profile": {"name": "Ana"}, "wa_id": PHONE, "user_id": BSUID,
                 "parent_user_id": PARENT}]  # fmt: skip
    message = text_message(**{"from": PHONE, "from_user_id": BSUID, "from_parent_user_id": PARENT})
    _, event, key = only_event(webhook("messages", value(contacts=contacts, messages=[message])))

    assert key == f"{PNID}:{PHONE}"
    assert isinstance(event, InboundMessageReceived)
    assert event.identity == Who(wa_id=PHONE, user_id=BSUID, parent_user_id=PARENT)
    assert event.contact_wa_id is None


def test_a_wa_id_that_differs_from_from_is_kept_beside_it() -> None:
    # Brazil: the number the customer wrote from lacks the ninth digit Meta's wa_id has
    contacts = [{"profile": {"name": "Ana"}, "wa_id": "5511987654321"}]
    message = text_message(**{"from": "551187654321"})
    _, event, _ = only_event(webhook("messages", value(contacts=contacts, messages=[message])))

    assert isinstance(event, InboundMessageReceived)
    assert (event.wa_id, event.contact_wa_id, event.contact_name) == (
        "551187654321", "5511987654321", "Ana"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("status", "who"),
    [
        ({"recipient_user_id": BSUID}, Who(user_id=BSUID)),
        ({"recipient_id": PHONE, "recipient_user_id": BSUID}, Who(wa_id=PHONE, user_id=BSUID)),
        ({"recipient_user_id": BSUID, "parent_recipient_user_id": PARENT},
         Who(user_id=BSUID, parent_user_id=PARENT)),
        ({"recipient_user_id": BSUID, "recipient_parent_user_id": PARENT},
         Who(user_id=BSUID, parent_user_id=PARENT)),
        ({"recipient_user_id": BSUID, "parent_user_id": PARENT},
         Who(user_id=BSUID, parent_user_id=PARENT)),
    ],
)  # fmt: skip
def test_statuses_keep_every_recipient_identifier(status: dict[str, Any], who: Who) -> None:
    item = {"id": "wamid.out", "status": "delivered", "timestamp": "1780000001", **status}
    contacts = [{"profile": {"name": "Ana", "username": "@ana.r"}, "user_id": BSUID}]
    spec, event, key = only_event(webhook("messages", value(contacts=contacts, statuses=[item])))

    assert spec is STATUSES and key == f"{PNID}:{who.primary}"
    assert isinstance(event, MessageStatusReported)
    assert event.identity == who
    assert event.recipient_id == who.wa_id


def test_a_marketing_stop_with_only_a_bsuid_is_typed() -> None:
    preference = {
        "user_id": BSUID,
        "detail": "User requested to stop marketing messages",
        "category": "marketing_messages",
        "value": "stop",
        "timestamp": 1780000002,
    }
    spec, event, key = only_event(
        webhook("user_preferences", value(contacts=[{"user_id": BSUID}],
                                          user_preferences=[preference]))
    )  # fmt: skip

    assert spec is USER_PREFERENCES and key == f"{PNID}:{BSUID}"
    assert isinstance(event, UserPreferenceChanged)
    assert (event.wa_id, event.user_id, event.value) == (None, BSUID, "stop")


NEW_BSUID = "BR.5500112233445566"


@pytest.mark.parametrize(
    ("message", "previous", "current"),
    [
        # Meta's user_changed_number: the old phone in `from`, the new one in system.wa_id
        ({"from": PHONE, "system": {"body": "User A changed from 5511987654321 to 5511912345678",
                                    "wa_id": "5511912345678", "type": "user_changed_number"}},
         Who(wa_id=PHONE), Who(wa_id="5511912345678")),
        # 2026: the BSUIDs too (regenerated with the number)
        ({"from": PHONE, "from_user_id": BSUID,
          "system": {"body": "changed", "wa_id": "5511912345678", "user_id": NEW_BSUID,
                     "type": "user_changed_number"}},
         Who(wa_id=PHONE, user_id=BSUID), Who(wa_id="5511912345678", user_id=NEW_BSUID)),
        # user_changed_user_id: no phone anywhere
        ({"from_user_id": BSUID,
          "system": {"body": "changed", "user_id": NEW_BSUID, "previous_user_id": BSUID,
                     "type": "user_changed_user_id"}},
         Who(user_id=BSUID), Who(user_id=NEW_BSUID)),
        # previous_user_id wins over from_user_id, parents follow
        ({"from_user_id": NEW_BSUID,
          "system": {"body": "changed", "user_id": NEW_BSUID, "previous_user_id": BSUID,
                     "parent_user_id": "BR.ENT.2", "previous_parent_user_id": PARENT,
                     "type": "user_changed_user_id"}},
         Who(user_id=BSUID, parent_user_id=PARENT),
         Who(user_id=NEW_BSUID, parent_user_id="BR.ENT.2")),
    ],
)  # fmt: skip
def test_identity_notices_become_identity_changes(
    message: dict[str, Any], previous: Who, current: Who
) -> None:
    item = {**message, "id": "wamid.sys", "timestamp": "1780000003", "type": "system"}
    spec, event, key = only_event(webhook("messages", value(messages=[item])))

    assert spec is IDENTITIES and key == f"{PNID}:{previous.primary}"
    assert isinstance(event, CustomerIdentityChanged)
    assert event.change == item["system"]["type"]
    assert (event.previous, event.current) == (previous, current)
    assert event.message_id == "wamid.sys" and event.body == item["system"]["body"]


@pytest.mark.parametrize(
    ("array", "item", "reason"),
    [
        ("messages", text_message(from_user_id="BR.1\r\n2"), "`from_user_id` carries a control"),
        ("messages", text_message(from_user_id="BR." + "1" * 129), "longer than 131 characters"),
        ("messages", text_message(**{"from": "not-a-number"}), "is neither a phone number"),
        ("messages", text_message(**{"from": BSUID}), "`from` holds a BSUID"),
        ("messages", {**text_message(from_user_id=BSUID), "type": "system",
                      "system": {"type": "user_changed_user_id", "body": "x"}},
         "without `system.wa_id` or `system.user_id`"),
        ("messages", {**text_message(from_user_id=BSUID), "type": "system",
                      "system": {"type": "user_changed_user_id", "user_id": "BR.\n"}},
         "`system.user_id` carries a control"),
        ("statuses", {"id": "wamid.o", "status": "sent", "timestamp": "1",
                      "recipient_user_id": "8841203376615520"},
         "`recipient_user_id` is not a BSUID"),
        ("statuses", {"id": "wamid.o", "status": "sent", "timestamp": "1"},
         "`recipient_id` and `recipient_user_id` are both missing"),
        ("user_preferences", {"user_id": "BR.88\n", "category": "marketing_messages",
                              "value": "stop", "timestamp": 1}, "`user_id` carries a control"),
        ("user_preferences", {"category": "marketing_messages", "value": "stop",
                              "timestamp": 1}, "`wa_id` and `user_id` are both missing"),
    ],
)  # fmt: skip
def test_a_malformed_identifier_stays_unparsed_with_its_reason(
    array: str, item: dict[str, Any], reason: str
) -> None:
    out = normalize(webhook("messages", value(**{array: [item]})), "corr")

    assert out.events == []
    ((unparsed,),) = [out.unparsed]
    assert unparsed.fragment == item
    assert unparsed.reason.startswith(f"malformed: entry[0].changes[0].value.{array}[0]: ")
    assert reason in unparsed.reason


def test_a_malformed_contact_describes_no_one_and_is_kept() -> None:
    contacts = [{"profile": {"name": "Ana", "username": "@a\r\nb"}, "user_id": BSUID}]
    out = normalize(
        webhook("messages", value(contacts=contacts, messages=[text_message(from_user_id=BSUID)])),
        "corr",
    )

    ((_, event, _),) = out.events
    assert isinstance(event, InboundMessageReceived)
    assert (event.username, event.contact_name) == (None, None)
    assert [u.fragment for u in out.unparsed] == [contacts[0]]
