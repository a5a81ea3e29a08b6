"""Customer messages of every type, as Meta posts them (§4.4), from control requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.sandbox.errors import InvalidCustomerMessage
from services.sandbox.rules.identity import Identity
from services.sandbox.rules.inbound import identity_change, message_item, opens_window, timestamp

T0 = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
WAMID = "wamid.IN"
DISPLAY = "15550783881"
CUSTOMER = "16505551234"
BUSINESS_MSG = "wamid.OUT"


def _item(**request: Any) -> dict[str, Any]:
    return message_item(request, WAMID, T0, DISPLAY, CUSTOMER)


def _common(kind: str) -> dict[str, Any]:
    return {"from": CUSTOMER, "id": WAMID, "timestamp": str(int(T0.timestamp())), "type": kind}


def test_text() -> None:
    assert _item(text="Does it come in another color?") == {
        **_common("text"),
        "text": {"body": "Does it come in another color?"},
    }


def test_reply_button_tap_matches_metas_example() -> None:
    item = _item(
        type="interactive",
        interactive={
            "type": "button_reply",
            "button_reply": {"id": "change-button", "title": "Change"},
        },
        context={"id": BUSINESS_MSG},
    )
    assert item == {
        "context": {"from": DISPLAY, "id": BUSINESS_MSG},
        **_common("interactive"),
        "interactive": {
            "type": "button_reply",
            "button_reply": {"id": "change-button", "title": "Change"},
        },
    }


def test_template_quick_reply_tap() -> None:
    item = _item(
        type="button",
        button={"payload": "OPT_OUT_MARKETING", "text": "Stop promotions"},
        context=BUSINESS_MSG,
    )
    assert item["button"] == {"payload": "OPT_OUT_MARKETING", "text": "Stop promotions"}
    assert item["context"] == {"from": DISPLAY, "id": BUSINESS_MSG}


def test_a_button_payload_defaults_to_its_label() -> None:
    assert _item(type="button", button={"text": "Yes"}, context=BUSINESS_MSG)["button"] == {
        "text": "Yes",
        "payload": "Yes",
    }


def test_click_to_whatsapp_referral() -> None:
    referral = {
        "source_url": "https://fb.me/x",
        "source_id": "120",
        "headline": "Sale",
        "ctwa_clid": "c1",
    }
    item = _item(text="I saw your ad", referral=referral)
    assert item["referral"] == {"source_type": "ad", **referral}


@pytest.mark.parametrize("kind", ["image", "video", "audio", "document", "sticker"])
def test_media_gets_id_mime_type_and_sha256(kind: str) -> None:
    item = _item(type=kind, **{kind: {"caption": "look"}})
    media = item[kind]
    assert media["id"].isdigit()
    assert "/" in media["mime_type"]
    assert len(media["sha256"]) == 64
    assert media["caption"] == "look"


def test_media_keeps_a_given_id() -> None:
    assert (
        _item(type="image", image={"id": "123", "mime_type": "image/png"})["image"]["id"] == "123"
    )


@pytest.mark.parametrize(
    ("request_body", "key", "value"),
    [
        (
            {"type": "location", "location": {"latitude": 1, "longitude": 2}},
            "location",
            {"latitude": 1, "longitude": 2},
        ),
        (
            {"type": "contacts", "contacts": [{"name": {"formatted_name": "A"}}]},
            "contacts",
            [{"name": {"formatted_name": "A"}}],
        ),
        (
            {"type": "reaction", "reaction": {"message_id": BUSINESS_MSG, "emoji": "x"}},
            "reaction",
            {"message_id": BUSINESS_MSG, "emoji": "x"},
        ),
        (
            {"type": "order", "order": {"catalog_id": "1", "product_items": []}},
            "order",
            {"catalog_id": "1", "product_items": []},
        ),
        (
            {
                "type": "system",
                "system": {"body": "changed", "wa_id": "1", "type": "user_changed_number"},
            },
            "system",
            {"body": "changed", "wa_id": "1", "type": "user_changed_number"},
        ),
    ],
)
def test_other_types(request_body: dict[str, Any], key: str, value: Any) -> None:
    assert _item(**request_body)[key] == value


def test_unsupported_carries_error_131051() -> None:
    item = _item(type="unsupported", unsupported={"type": "poll"})
    assert item["unsupported"] == {"type": "poll"}
    assert item["errors"][0]["code"] == 131051


@pytest.mark.parametrize(
    ("request_body", "details"),
    [
        ({"type": "fax"}, "unknown"),
        ({"type": "text"}, "text"),
        ({"type": "text", "text": {"body": ""}}, "text.body"),
        ({"type": "image"}, "image"),
        (
            {"type": "interactive", "interactive": {"type": "button_reply"}, "context": "w"},
            "button_reply",
        ),
        (
            {"type": "interactive", "interactive": {"type": "button_reply", "button_reply": {}}},
            "context",
        ),
        ({"type": "button", "button": {"text": "Yes"}}, "context"),
        ({"type": "button", "button": {}, "context": "w"}, "button.text"),
        ({"type": "reaction", "reaction": {"emoji": "x"}}, "message_id"),
        ({"type": "contacts", "contacts": []}, "contacts"),
        ({"text": "hi", "referral": "ad"}, "referral"),
    ],
)
def test_impossible_messages_are_refused(request_body: dict[str, Any], details: str) -> None:
    with pytest.raises(InvalidCustomerMessage, match=details):
        _item(**request_body)


@pytest.mark.parametrize(
    ("kind", "opens"),
    [
        ("text", True),
        ("image", True),
        ("button", True),
        ("interactive", True),
        ("location", True),
        ("reaction", False),
        ("system", False),
        ("unsupported", False),
    ],
)
def test_what_opens_the_window(kind: str, opens: bool) -> None:
    assert opens_window(kind) is opens


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, T0),
        ("", T0),
        (int(T0.timestamp()) - 60, T0 - timedelta(minutes=1)),
        (str(int(T0.timestamp()) - 3600), T0 - timedelta(hours=1)),
        ("2025-06-07T21:00:01+00:00", T0 - timedelta(hours=23, minutes=59, seconds=59)),
        ("2025-06-07T21:00:00", T0 - timedelta(hours=24)),
    ],
)
def test_timestamps_in_the_past(raw: object, expected: datetime) -> None:
    assert timestamp(raw, T0) == expected


@pytest.mark.parametrize("raw", [int(T0.timestamp()) + 10, "yesterday", True, [1], "9" * 30])
def test_bad_or_future_timestamps_are_refused(raw: object) -> None:
    with pytest.raises(InvalidCustomerMessage):
        timestamp(raw, T0)


OLD_ID, NEW_ID = "US.13491208655302741918", "US.55501234567890123456"
OLD_PARENT, NEW_PARENT = "US.ENT.11815799212886844830", "US.ENT.99915799212886844830"
NEW_PHONE = "12195555358"


def test_a_customer_identified_by_bsuid_writes_without_from() -> None:
    who = Identity(user_id=OLD_ID, parent_user_id=OLD_PARENT, username="ana.r")
    item = message_item({"text": "Hi"}, WAMID, T0, DISPLAY, who)
    assert item == {
        "from_user_id": OLD_ID,
        "from_parent_user_id": OLD_PARENT,
        "id": WAMID,
        "timestamp": str(int(T0.timestamp())),
        "type": "text",
        "text": {"body": "Hi"},
    }


def test_a_shareable_number_change_is_user_changed_number() -> None:
    before = Identity(wa_id=CUSTOMER, user_id=OLD_ID, parent_user_id=OLD_PARENT)
    after = Identity(wa_id=NEW_PHONE, user_id=NEW_ID, parent_user_id=NEW_PARENT)
    item = identity_change(before, after, "Sheena Nelson", WAMID, T0)
    assert item == {
        "from": CUSTOMER,
        "from_user_id": OLD_ID,
        "from_parent_user_id": OLD_PARENT,
        "id": WAMID,
        "timestamp": str(int(T0.timestamp())),
        "type": "system",
        "system": {
            "body": f"User Sheena Nelson changed from {CUSTOMER} to {NEW_PHONE}",
            "wa_id": NEW_PHONE,
            "type": "user_changed_number",
            "user_id": NEW_ID,
            "parent_user_id": NEW_PARENT,
            "previous_user_id": OLD_ID,
            "previous_parent_user_id": OLD_PARENT,
        },
    }


@pytest.mark.parametrize(
    "before",
    [
        pytest.param(Identity(user_id=OLD_ID, username="ana.r"), id="phone-withheld"),
        pytest.param(Identity(wa_id=CUSTOMER, user_id=OLD_ID), id="old-phone-shown-new-one-not"),
    ],
)
def test_a_number_change_with_no_phone_to_share_is_user_changed_user_id(before: Identity) -> None:
    after = Identity(user_id=NEW_ID, username="ana.r")
    item = identity_change(before, after, "Ana", WAMID, T0)
    assert "from" not in item
    assert item["from_user_id"] == OLD_ID
    assert item["system"] == {
        "body": f"User Ana changed from {OLD_ID} to {NEW_ID}",
        "type": "user_changed_user_id",
        "user_id": NEW_ID,
        "previous_user_id": OLD_ID,
    }
