"""Every element of every array is judged on its own: valid siblings are always published, each
invalid one is kept whole on the unparsed topic with a reason naming where it was and why, and no
typed event says more or other than Meta sent (issue "hostile input at every door")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.ingest.normalize import Normalized, normalize
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.topics import INBOUND_MESSAGES, STATUSES, USER_PREFERENCES, WEBHOOK_ERRORS
from tests.services.ingest.meta_payloads import CUSTOMER, METADATA, PNID, WABA, webhook

BSUID = "US.13491208655302741918"
AT = "1749416383"
WHERE = "entry[0].changes[0].value"


def message(wamid: str = "wamid.ok", **fields: Any) -> dict[str, Any]:
    item = {"from": CUSTOMER, "id": wamid, "timestamp": AT, "type": "text",
            "text": {"body": "Does it come in another color?"}}  # fmt: skip
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def status(wamid: str = "wamid.out", **fields: Any) -> dict[str, Any]:
    item = {"id": wamid, "status": "delivered", "timestamp": "1750263773",
            "recipient_id": CUSTOMER, "pricing": {"billable": True}}  # fmt: skip
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


def value(**arrays: Any) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "metadata": METADATA, **arrays}


def run(value_: dict[str, Any], **kwargs: Any) -> Normalized:
    return normalize(webhook("messages", value_), "corr", **kwargs)


def ids(out: Normalized) -> list[tuple[str, str]]:
    return [(spec.name, getattr(e, "message_id", "")) for spec, e, _ in out.events]


def rejected(out: Normalized) -> list[tuple[Any, str]]:
    return [(u.fragment, u.reason) for u in out.unparsed]


NAN_LOCATION = {"latitude": float("nan"), "longitude": 1.0}
INF_ITEM = {
    "product_retailer_id": "p",
    "quantity": 1,
    "item_price": float("inf"),
    "currency": "USD",
}
INF_ORDER = {"catalog_id": "c", "product_items": [INF_ITEM]}
HOSTILE_MESSAGES = [
    (message("wamid.bad", type="image"), "messages[0]: carries `text` but its type is `image`"),
    (message("wamid.bad", text={"body": "a\x00b"}), "`text.body` carries a NUL character"),
    (
        message("wamid.bad", type="location", text=None, location=NAN_LOCATION),
        "`location.latitude` is not a finite number",
    ),
    (
        message("wamid.bad", type="order", text=None, order=INF_ORDER),
        "`order.product_items[0].item_price` is not a finite number",
    ),
    (message("wamid.bad", id="wamid.a\r\nb"), "`id` is not a well-formed identifier"),
    (message("wamid.bad", timestamp="soon"), "`timestamp` is not epoch seconds"),
    (message(**{"from": "+1 650-555-1234"}), "`from` is neither a phone number (digits) nor a"),
    (message("wamid.bad", errors=[{"code": "131051"}]), "`errors[0].code` is not an integer"),
    (message("wamid.bad", context={"id": 5.5}), "`context.id` is not a string"),
    (message("wamid.bad", referral="ad"), "`referral` is not an object"),
    (
        message("wamid.bad", **{"from": None, "from_user_id": "US.1\r\n2"}),
        "`from_user_id` carries a control character",
    ),
    (message(from_user_id="US." + "1" * 129), "`from_user_id` is longer than 131 characters"),
    ("wamid.bad", "messages[0]: not an object"),
    (None, "messages[0]: not an object"),
]


@pytest.mark.parametrize(("hostile", "reason"), HOSTILE_MESSAGES)
def test_an_invalid_message_is_kept_whole_and_its_siblings_are_published(
    hostile: Any, reason: str
) -> None:
    out = run(value(messages=[hostile, message()], statuses=[status()]))

    assert ids(out) == [(INBOUND_MESSAGES.name, "wamid.ok"), (STATUSES.name, "wamid.out")]
    ((fragment, why),) = rejected(out)
    assert fragment == hostile
    assert why.startswith(f"malformed: {WHERE}.messages[0]")
    assert reason in why


def test_one_non_object_status_does_not_hide_the_status_and_message_beside_it() -> None:
    out = run(value(messages=[message()], statuses=[status(), 7, status("wamid.two")]))

    assert ids(out) == [
        (INBOUND_MESSAGES.name, "wamid.ok"),
        (STATUSES.name, "wamid.out"),
        (STATUSES.name, "wamid.two"),
    ]
    assert rejected(out) == [(7, f"malformed: {WHERE}.statuses[1]: not an object")]


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        (status(biz_opaque_callback_data=12), "`biz_opaque_callback_data` is not a string"),
        (status(pricing={"category": "utility\x00"}), "`pricing.category` carries a NUL"),
        (status(status="delivered\n"), "`status` is not a well-formed identifier"),
        (status(recipient_id="1650555123A"), "`recipient_id` is neither a phone number"),
        (status(errors=[{"title": "no code"}]), "`errors[0].code` is not an integer"),
        (status(conversation=[]), "`conversation` is not an object"),
    ],
)
def test_an_invalid_status_is_kept_whole(hostile: dict[str, Any], reason: str) -> None:
    out = run(value(statuses=[hostile, status("wamid.two")]))

    assert ids(out) == [(STATUSES.name, "wamid.two")]
    ((fragment, why),) = rejected(out)
    assert (fragment, why.startswith(f"malformed: {WHERE}.statuses[0]: ")) == (hostile, True)
    assert reason in why


@pytest.mark.parametrize(
    "metadata",
    [None, {}, {"display_phone_number": "15550783881"}, {"phone_number_id": ""},
     {"phone_number_id": "1065\x0040352242922"}, {"phone_number_id": "not-a-number"}],
)  # fmt: skip
def test_a_value_without_a_business_number_types_nothing(metadata: Any) -> None:
    broken = {"messages": [message()], "statuses": [status()]}
    if metadata is not None:
        broken["metadata"] = metadata

    out = normalize(webhook("messages", broken), "corr")

    assert out.events == []
    ((fragment, why),) = rejected(out)
    assert fragment == broken
    assert why.startswith(f"malformed: {WHERE}: `metadata")


def test_a_name_with_nul_is_not_given_to_the_message_and_the_contact_is_kept() -> None:
    contacts = [{"profile": {"name": "Sheena\x00"}, "wa_id": CUSTOMER}]

    out = run(value(contacts=contacts, messages=[message()]))

    ((_, event, _),) = out.events
    assert isinstance(event, InboundMessageReceived)
    assert event.contact_name is None
    assert rejected(out) == [
        (contacts[0], f"malformed: {WHERE}.contacts[0]: `profile.name` carries a NUL character")
    ]


def test_two_contacts_naming_one_phone_differently_keep_the_first_name() -> None:
    contacts = [
        {"profile": {"name": "Sheena"}, "wa_id": CUSTOMER},
        {"profile": {"name": "Sheena"}, "wa_id": CUSTOMER},
        {"profile": {"name": "Mallory"}, "wa_id": CUSTOMER},
    ]

    out = run(value(contacts=contacts, messages=[message()]))

    assert [e.contact_name for _, e, _ in out.events] == ["Sheena"]
    assert [f for f, _ in rejected(out)] == [contacts[2]]


def test_the_same_message_twice_in_one_body_is_published_once() -> None:
    out = run(value(messages=[message(), message()], statuses=[status(), status()]))

    assert ids(out) == [(INBOUND_MESSAGES.name, "wamid.ok"), (STATUSES.name, "wamid.out")]
    assert out.unparsed == []
    assert len(out.repeated) == 2
    assert len({e.event_id for _, e, _ in out.to_publish("corr")}) == 2


def test_the_same_message_in_two_entries_is_published_once() -> None:
    payload = webhook("messages", value(messages=[message()]))
    payload["entry"].append(payload["entry"][0])

    out = normalize(payload, "corr")

    assert ids(out) == [(INBOUND_MESSAGES.name, "wamid.ok")]


def test_another_item_with_an_id_already_published_is_unparsed_not_published() -> None:
    changed = message(text={"body": "something else"})

    out = run(value(messages=[message(), changed]))

    assert ids(out) == [(INBOUND_MESSAGES.name, "wamid.ok")]
    assert rejected(out) == [
        (changed, f"malformed: {WHERE}.messages[1]: has the event id of an earlier item of "
                  "this body, not its content"),
    ]  # fmt: skip


RECEIVED = datetime(2025, 6, 8, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sent", "future"),
    [
        (RECEIVED - timedelta(days=3), False),
        (RECEIVED + timedelta(minutes=5), False),
        (RECEIVED + timedelta(minutes=5, seconds=1), True),
        (RECEIVED + timedelta(days=365 * 50), True),
    ],
)
def test_a_timestamp_later_than_receipt_plus_the_skew_is_flagged(
    sent: datetime, future: bool
) -> None:
    seconds = str(int(sent.timestamp()))
    out = run(
        value(messages=[message(timestamp=seconds)], statuses=[status(timestamp=seconds)]),
        received_at=RECEIVED,
        future_skew=timedelta(minutes=5),
    )

    assert out.unparsed == []
    for _, event, _ in out.events:
        assert isinstance(event, InboundMessageReceived | MessageStatusReported)
        assert (event.timestamp, event.received_at, event.timestamp_in_future) == (
            sent,
            RECEIVED,
            future,
        )


def test_without_a_receive_time_nothing_is_flagged() -> None:
    ((_, event, _),) = run(value(messages=[message(timestamp="9999999999")])).events
    assert (event.received_at, event.timestamp_in_future) == (None, False)


PREFERENCE = {"category": "marketing_messages", "value": "stop", "timestamp": 1731705721}
NOT_TYPED = [
    ("messages", message(group_id="120363"), "a group message"),
    ("statuses", status(recipient_type="group", recipient_id="120363"), "a status of a group"),
]


@pytest.mark.parametrize(("array", "item", "reason"), NOT_TYPED)
def test_a_group_item_is_not_typed_yet_and_not_called_malformed(
    array: str, item: dict[str, Any], reason: str
) -> None:
    arrays: dict[str, list[Any]] = {array: [item]}
    arrays.setdefault("messages", []).append(message("wamid.phone"))

    out = run(value(**arrays))

    assert ids(out) == [(INBOUND_MESSAGES.name, "wamid.phone")]
    ((fragment, why),) = rejected(out)
    assert fragment == item
    assert why.startswith(f"not typed yet: {WHERE}.{array}[0]: ")
    assert reason in why
    assert "malformed" not in why


BSUID_ONLY = [
    ("messages", message(**{"from": None, "from_user_id": BSUID}), INBOUND_MESSAGES.name),
    ("messages", message(**{"from": "", "from_user_id": BSUID}), INBOUND_MESSAGES.name),
    ("statuses", status(recipient_id=None, recipient_user_id=BSUID), STATUSES.name),
    ("user_preferences", {"user_id": BSUID, **PREFERENCE}, USER_PREFERENCES.name),
    ("user_preferences", {"wa_id": "", "user_id": BSUID, **PREFERENCE}, USER_PREFERENCES.name),
]


@pytest.mark.parametrize(("array", "item", "topic"), BSUID_ONLY)
def test_a_customer_known_only_by_bsuid_is_typed_and_keyed_by_it(
    array: str, item: dict[str, Any], topic: str
) -> None:
    out = run(value(**{array: [item]}))

    assert out.unparsed == []
    ((spec, event, key),) = out.events
    assert (spec.name, key) == (topic, f"{PNID}:{BSUID}")
    assert event.identity.user_id == BSUID  # type: ignore[attr-defined]
    assert event.identity.wa_id is None  # type: ignore[attr-defined]


def test_a_customer_with_phone_and_bsuid_is_typed_by_phone() -> None:
    contacts = [{"profile": {"name": "Ana", "username": "@ana.r"}, "wa_id": CUSTOMER,
                 "user_id": BSUID}]  # fmt: skip
    preference = {"wa_id": CUSTOMER, "user_id": BSUID, "category": "marketing_messages",
                  "value": "stop", "timestamp": 1731705721}  # fmt: skip
    out = run(
        value(
            contacts=contacts,
            messages=[message(from_user_id=BSUID)],
            statuses=[status(recipient_user_id=BSUID, parent_recipient_user_id="US.ENT.1")],
            user_preferences=[preference],
        )
    )

    assert out.unparsed == []
    assert [(spec.name, key) for spec, _, key in out.events] == [
        (INBOUND_MESSAGES.name, f"{PNID}:{CUSTOMER}"),
        (STATUSES.name, f"{PNID}:{CUSTOMER}"),
        (USER_PREFERENCES.name, f"{PNID}:{CUSTOMER}"),
    ]
    assert out.events[0][1].contact_name == "Ana"  # type: ignore[attr-defined]


def test_a_contact_known_only_by_bsuid_names_nothing_and_is_not_unparsed() -> None:
    contacts = [{"profile": {"name": "Ana", "username": "@ana.r"}, "user_id": BSUID}]

    out = run(value(contacts=contacts, messages=[message()]))

    assert out.unparsed == []
    assert out.events[0][1].contact_name is None  # type: ignore[attr-defined]


def test_a_part_of_a_value_ingest_does_not_type_is_kept_not_dropped() -> None:
    calls = [{"id": "wacid.1", "from": CUSTOMER}]

    out = run(value(messages=[message()], calls=calls, statuses="many"))

    assert ids(out) == [(INBOUND_MESSAGES.name, "wamid.ok")]
    assert rejected(out) == [
        ("many", f"malformed: {WHERE}: `statuses` is not a list"),
        (calls, f"not typed yet: {WHERE}: `calls` is not a part of this field ingest types"),
    ]


def test_value_errors_are_judged_one_by_one() -> None:
    good = {"code": 130429, "title": "Rate limit hit"}

    out = run(value(errors=[{"title": "no code"}, good, "oops"]))

    assert [spec.name for spec, _, _ in out.events] == [WEBHOOK_ERRORS.name]
    assert [f for f, _ in rejected(out)] == [{"title": "no code"}, "oops"]


@pytest.mark.parametrize(
    ("field", "hostile", "reason"),
    [
        ("message_template_status_update",
         {"event": "APPROVED", "message_template_id": "12a"}, "is not a Graph id"),
        ("message_template_status_update",
         {"event": "APPROVED", "message_template_id": 1, "reason": "x\x00"},
         "`value.reason` carries a NUL character"),
        ("account_update", {"event": "VERIFIED", "ban_info": {"x": float("nan")}},
         "`value.ban_info.x` is not a finite number"),
    ],
)  # fmt: skip
def test_waba_level_changes_are_refused_whole_when_any_field_is_hostile(
    field: str, hostile: dict[str, Any], reason: str
) -> None:
    payload = webhook(field, hostile)
    payload["entry"][0]["changes"].append(
        webhook("messages", value(messages=[message()]))["entry"][0]["changes"][0]
    )

    out = normalize(payload, "corr")

    assert ids(out) == [(INBOUND_MESSAGES.name, "wamid.ok")]
    ((fragment, why),) = rejected(out)
    assert fragment == payload["entry"][0]["changes"][0]
    assert why.startswith("malformed: entry[0].changes[0]: ")
    assert reason in why
    assert out.unparsed[0].waba_id == WABA
