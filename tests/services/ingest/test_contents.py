"""Each inbound type's object (rules §4.4): what Meta sends is kept as it is, and an object that
does not match its `type` is malformed, naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest.coerce import Malformed
from services.ingest.contents import content_of

VALID = [
    ("text", {"body": "Does it come in another color?"}),
    ("image", {"id": "1013859600285441", "mime_type": "image/jpeg", "sha256": "abc=",
               "caption": None}),
    ("audio", {"id": "2", "mime_type": "audio/ogg", "voice": True, "url": "https://x/y"}),
    ("sticker", {"id": "4", "mime_type": "image/webp", "animated": False}),
    ("document", {"id": "3", "mime_type": "application/pdf", "filename": "invoice.pdf"}),
    ("location", {"latitude": 38.9, "longitude": -77.03, "name": "Office"}),
    ("location", {"latitude": -90, "longitude": 180}),
    ("reaction", {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI3", "emoji": "👍"}),
    ("reaction", {"message_id": "wamid.removed"}),
    ("button", {"payload": "OPT_OUT_MARKETING", "text": "Stop promotions"}),
    ("interactive", {"type": "button_reply", "button_reply": {"id": "b1", "title": "Change"}}),
    ("interactive", {"type": "nfm_reply",
                     "nfm_reply": {"name": "flow", "body": "Sent", "response_json": "{}"}}),
    ("interactive", {"type": "call_permission_reply", "call_permission_reply": {"response": "x"}}),
    ("order", {"catalog_id": "c1", "product_items": [
        {"product_retailer_id": "p1", "quantity": 2, "item_price": 9.5, "currency": "USD"}]}),
    ("system", {"body": "changed", "type": "user_changed_number", "wa_id": "16505550000",
                "user_id": "US.13491208655302741918"}),
    ("revoke", {"original_message_id": "wamid.orig"}),
    ("edit", {"original_message_id": "wamid.orig", "message": {"type": "text"}}),
    ("a_type_from_the_future", {"anything": [1, 2]}),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "own"), VALID)
def test_what_meta_sends_is_kept(kind: str, own: dict[str, Any]) -> None:
    assert content_of({"type": kind, kind: own}, kind) == own


def test_a_list_is_kept_under_its_type_and_an_absent_object_is_empty_where_allowed() -> None:
    cards = [{"name": {"formatted_name": "Ann"}, "phones": [{"phone": "+1 555"}]}]
    assert content_of({"contacts": cards}, "contacts") == {"contacts": cards}
    assert content_of({"errors": [{"code": 131051}]}, "unsupported") == {}
    assert content_of({}, "request_welcome") == {}


@pytest.mark.parametrize(
    ("msg", "kind", "reason"),
    [
        ({"text": {"body": "hi"}}, "image", "carries `text` but its type is `image`"),
        ({"image": {"id": "1"}, "text": {"body": "hi"}}, "image", "carries `text`"),
        ({}, "image", "has type `image` but no `image` object"),
        ({"image": {"caption": "no id"}}, "image", "`image.id` is missing"),
        ({"image": "1013859600285441"}, "image", "`image` is not an object"),
        ({"image": {"id": "1 2"}}, "image", "`image.id` is not a well-formed identifier"),
        ({"audio": {"id": "2", "voice": "yes"}}, "audio", "`audio.voice` is not true or false"),
        ({"text": {}}, "text", "`text.body` is missing"),
        ({"text": {"body": 5}}, "text", "`text.body` is not a string"),
        ({"location": {"latitude": 91, "longitude": 0}}, "location",
         "`location.latitude` is outside [-90, 90]"),
        ({"location": {"latitude": "38.9", "longitude": 0}}, "location",
         "`location.latitude` is not a finite number"),
        ({"location": {"latitude": float("nan"), "longitude": 0}}, "location",
         "`location.latitude` is not a finite number"),
        ({"location": {"latitude": 1, "longitude": float("inf")}}, "location",
         "`location.longitude` is not a finite number"),
        ({"location": {"latitude": True, "longitude": 0}}, "location", "not a finite number"),
        ({"reaction": {"emoji": "👍"}}, "reaction", "`reaction.message_id` is missing"),
        ({"button": {"payload": "P"}}, "button", "`button.text` is missing"),
        ({"interactive": {"type": "button_reply"}}, "interactive",
         "`interactive.button_reply` is not an object"),
        ({"interactive": {"type": "list_reply", "list_reply": {"id": "r1"}}}, "interactive",
         "`interactive.list_reply.title` is missing"),
        ({"interactive": {}}, "interactive", "`interactive.type` is not a string"),
        ({"order": {"catalog_id": "c1", "product_items": [{"product_retailer_id": "p",
          "quantity": 1, "item_price": float("nan"), "currency": "USD"}]}}, "order",
         "`order.product_items[0].item_price` is not a finite number"),
        ({"order": {"catalog_id": "c1", "product_items": "all"}}, "order",
         "`order.product_items` is not a list"),
        ({"contacts": []}, "contacts", "`contacts` is empty"),
        ({"contacts": [1]}, "contacts", "`contacts` is not a list of objects"),
        ({"system": {"wa_id": "+1 555"}}, "system", "`system.wa_id` is neither a phone number"),
        ({"system": {"user_id": "US.1\r\n"}}, "system", "`system.user_id` carries a control"),
        ({"revoke": {}}, "revoke", "`revoke.original_message_id` is missing"),
        ({"edit": {"original_message_id": "w", "message": "hi"}}, "edit",
         "`edit.message` is not an object"),
        ({"a_type_from_the_future": "a string"}, "a_type_from_the_future",
         "`a_type_from_the_future` is neither an object nor a list"),
        ({"text": {"body": "x"}}, "a_type_from_the_future", "carries `text`"),
    ],
)  # fmt: skip
def test_an_object_that_does_not_match_its_type_is_malformed(
    msg: dict[str, Any], kind: str, reason: str
) -> None:
    with pytest.raises(Malformed) as raised:
        content_of({"type": kind, **msg}, kind)
    assert reason in str(raised.value)
