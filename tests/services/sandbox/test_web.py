"""The sandbox over HTTP: Meta's routes and bearer check, the rules end to end, signed
webhooks, template management with review, and the control API."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.services.sandbox.conftest import PNID, WABA, Stack, StackFactory

CUSTOMER = "16505551234"
OTHER = "16505559876"
TEMPLATES = f"/v24.0/{WABA}/message_templates"


def _text(to: str = CUSTOMER, body: str = "Yes, it comes in blue.") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def _template_send(name: str, *components: dict[str, Any], to: str = CUSTOMER) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": "en_US"}, "components": list(components)},
        "biz_opaque_callback_data": "intent-1",
    }


def _new_template(name: str, body: str, category: str = "UTILITY") -> dict[str, Any]:
    component: dict[str, Any] = {"type": "BODY", "text": body}
    if "{{" in body:
        component["example"] = {"body_text": [["860198"]]}
    return {"name": name, "language": "en_US", "category": category, "components": [component]}


async def _customer(stack: Stack, **request: Any) -> str:
    body = {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hi", **request}
    status, reply = await stack.call("POST", "/_sandbox/customer-messages", body)
    assert status == 200, reply
    return str(reply["id"])


async def _approved(stack: Stack, name: str, body: str, category: str = "UTILITY") -> str:
    status, created = await stack.call("POST", TEMPLATES, _new_template(name, body, category))
    assert status == 200, created
    await stack.settle()
    return str(created["id"])


async def _violations(stack: Stack, query: str = "") -> list[dict[str, Any]]:
    status, body = await stack.call("GET", f"/_sandbox/violations{query}")
    assert status == 200
    assert body["count"] == len(body["violations"])
    return list(body["violations"])


async def test_a_wrong_token_gets_190(make_stack: StackFactory) -> None:
    stack = await make_stack()
    status, body = await stack.call("POST", f"/v24.0/{PNID}/messages", _text(), auth=False)
    assert (status, body["error"]["code"]) == (401, 190)
    status, body = await stack.call("GET", TEMPLATES, auth=False)
    assert (status, body["error"]["code"]) == (401, 190)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/v24.0/{PNID}/messages"),
        ("POST", TEMPLATES),
        ("GET", TEMPLATES),
        ("DELETE", TEMPLATES),
        ("GET", "/v24.0/123456"),
        ("POST", "/v24.0/123456"),
        ("POST", "/v24.0/123456/unpause"),
    ],
)
async def test_every_cloud_api_route_needs_the_token(
    make_stack: StackFactory, method: str, path: str
) -> None:
    stack = await make_stack()
    status, body = await stack.call(method, path, {}, auth=False)
    assert (status, body["error"]["code"]) == (401, 190)
    status, _ = await stack.call("GET", "/_sandbox/violations", auth=False)
    assert status == 200  # the control API is the developer's, not Meta's


async def test_a_body_that_is_not_json_gets_100(make_stack: StackFactory) -> None:
    stack = await make_stack()
    async with stack.client.post(
        f"/v24.0/{PNID}/messages",
        data=b"{not json",
        headers={"Authorization": "Bearer sandbox-token"},
    ) as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["code"] == 100


async def test_a_reply_in_the_window_is_sent_and_delivered_free(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _customer(stack)
    status, sent = await stack.send({**_text(), "biz_opaque_callback_data": "intent-9"})

    assert status == 200
    assert "message_status" not in sent["messages"][0]
    await stack.settle()
    assert all(stack.receiver.signed)
    statuses = stack.receiver.statuses()
    assert [s["status"] for s in statuses] == ["sent", "delivered"]
    assert {s["id"] for s in statuses} == {sent["messages"][0]["id"]}
    assert {s["biz_opaque_callback_data"] for s in statuses} == {"intent-9"}
    free = {
        "billable": False,
        "pricing_model": "PMP",
        "type": "free_customer_service",
        "category": "service",
    }
    assert [s["pricing"] for s in statuses] == [free, free]
    assert all("conversation" not in s for s in statuses)
    assert await _violations(stack) == []


@pytest.mark.parametrize(
    ("ago_s", "outcome"),
    [(24 * 3600 - 30, "delivered"), (24 * 3600 + 1, "failed")],
    ids=["23h59m30s-ago", "24h-and-1s-ago"],
)
async def test_a_past_customer_message_opens_the_window_from_its_timestamp(
    make_stack: StackFactory, ago_s: int, outcome: str
) -> None:
    stack = await make_stack()
    await _customer(stack, timestamp=int(time.time()) - ago_s)
    await stack.send(_text())
    await stack.settle()

    inbound = stack.receiver.payloads()[0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert int(inbound["timestamp"]) == pytest.approx(time.time() - ago_s, abs=2)
    assert stack.receiver.statuses()[-1]["status"] == outcome


async def test_free_form_outside_the_window_fails_131047_and_is_a_violation(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    status, sent = await stack.send(_text(to=OTHER))
    await stack.settle()

    assert status == 200
    (failed,) = stack.receiver.statuses()
    assert failed["status"] == "failed" and failed["errors"][0]["code"] == 131047
    (violation,) = await _violations(stack)
    assert (violation["code"], violation["wamid"]) == (131047, sent["messages"][0]["id"])
    status, alias = await stack.call("GET", "/sandbox/violations")
    assert alias["count"] == 1
    assert await _violations(stack, "?code=130429") == []


async def test_a_reaction_gets_only_sent_and_a_reaction_does_not_open_the_window(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    inbound = await _customer(
        stack, type="reaction", reaction={"message_id": "wamid.X", "emoji": "x"}
    )
    await stack.send(_text())
    await _customer(stack)
    reaction = {"messaging_product": "whatsapp", "to": CUSTOMER, "type": "reaction"}
    _, sent = await stack.send(
        {**reaction, "reaction": {"message_id": inbound, "emoji": "\U0001f44d"}}
    )
    await stack.settle()
    read = {"wamid": sent["messages"][0]["id"]}
    assert (await stack.call("POST", "/_sandbox/customer-reads", read))[0] == 404

    assert [s["status"] for s in stack.receiver.statuses()] == ["failed", "sent"]


async def test_template_lifecycle_create_review_send_delete(make_stack: StackFactory) -> None:
    stack = await make_stack(review_delay_s=0.05)
    status, created = await stack.call(
        "POST", TEMPLATES, _new_template("shipping_update", "Your order {{1}} has shipped today.")
    )
    assert status == 200
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    status, early = await stack.send(_template_send("shipping_update"))
    assert (status, early["error"]["code"]) == (400, 132001)

    await stack.settle()
    (approved,) = stack.receiver.changes("message_template_status_update")
    assert approved["event"] == "APPROVED"
    assert approved["message_template_id"] == int(created["id"])
    assert approved["message_template_category"] == "UTILITY"
    status, listed = await stack.call("GET", f"{TEMPLATES}?name=shipping_update")
    assert [t["status"] for t in listed["data"]] == ["APPROVED"]

    body = {"type": "body", "parameters": [{"type": "text", "text": "860198"}]}
    status, sent = await stack.send(_template_send("shipping_update", body))
    assert status == 200, sent
    assert sent["messages"][0]["message_status"] == "accepted"
    await stack.settle()
    paid = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    assert [s["pricing"] for s in stack.receiver.statuses()] == [paid, paid]

    status, deleted = await stack.call("DELETE", f"{TEMPLATES}?name=shipping_update")
    assert (status, deleted) == (200, {"success": True})
    await stack.settle()
    assert stack.receiver.changes("message_template_status_update")[-1]["event"] == "DELETED"
    status, gone = await stack.send(_template_send("shipping_update", body))
    assert (status, gone["error"]["code"]) == (400, 132001)
    assert [v["code"] for v in await _violations(stack)] == [132001, 132001]


async def test_promotional_utility_is_approved_as_marketing(make_stack: StackFactory) -> None:
    stack = await make_stack()
    template_id = await _approved(stack, "order_deal", "Order {{1}} shipped, enjoy 20% off a deal!")

    (status,) = stack.receiver.changes("message_template_status_update")
    assert (status["event"], status["message_template_category"]) == ("APPROVED", "MARKETING")
    (category,) = stack.receiver.changes("template_category_update")
    assert category["message_template_id"] == int(template_id)
    assert (category["previous_category"], category["new_category"]) == ("UTILITY", "MARKETING")


async def test_a_malformed_variable_is_rejected_invalid_format(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _approved(stack, "bad_vars", "Your order {{#1}} has shipped today.")

    (rejected,) = stack.receiver.changes("message_template_status_update")
    assert (rejected["event"], rejected["reason"]) == ("REJECTED", "INVALID_FORMAT")
    assert rejected["rejection_info"]["reason"] == "INVALID_FORMAT"
    _, listed = await stack.call("GET", f"{TEMPLATES}?status=REJECTED")
    assert [t["rejected_reason"] for t in listed["data"]] == ["INVALID_FORMAT"]


async def test_creation_errors_and_wrong_waba(make_stack: StackFactory) -> None:
    stack = await make_stack()
    status, body = await stack.call(
        "POST", TEMPLATES, {**_new_template("x", "Hi"), "name": "Bad Name"}
    )
    assert (status, body["error"]["code"]) == (400, 100)
    await _approved(stack, "hello", "Hello there.")
    status, body = await stack.call("POST", TEMPLATES, _new_template("hello", "Hello again."))
    assert (status, body["error"]["code"]) == (400, 100)
    assert "already exists" in body["error"]["error_data"]["details"]
    status, body = await stack.call("GET", "/v24.0/999/message_templates")
    assert (status, body["error"]["code"]) == (400, 100)
    status, body = await stack.call("DELETE", TEMPLATES)
    assert (status, body["error"]["code"]) == (400, 131008)


async def test_pause_unpause_disable_recategorise_and_quality(make_stack: StackFactory) -> None:
    stack = await make_stack()
    template_id = await _approved(stack, "notice", "Your appointment is confirmed.")
    control = f"/_sandbox/templates/{template_id}"

    status, paused = await stack.call("POST", f"{control}/pause", {})
    assert (status, paused["status"]) == (200, "PAUSED")
    status, refused = await stack.send(_template_send("notice"))
    assert (status, refused["error"]["code"]) == (400, 132015)
    await stack.call("POST", f"{control}/unpause", {})
    status, _ = await stack.send(_template_send("notice"))
    assert status == 200
    await stack.call("POST", f"{control}/pause", {})
    await stack.call("POST", f"{control}/unpause", {})
    status, third = await stack.call("POST", f"{control}/pause", {})
    assert third["status"] == "DISABLED"
    status, refused = await stack.send(_template_send("notice"))
    assert (status, refused["error"]["code"]) == (400, 132016)
    await stack.settle()

    events = [
        (c["event"], c.get("other_info", {}).get("title"))
        for c in stack.receiver.changes("message_template_status_update")
    ]
    assert events == [
        ("APPROVED", None),
        ("PAUSED", "FIRST_PAUSE"),
        ("APPROVED", "UNPAUSE"),
        ("PAUSED", "SECOND_PAUSE"),
        ("APPROVED", "UNPAUSE"),
        ("DISABLED", "DISABLED"),
    ]
    status, _ = await stack.call("DELETE", f"{TEMPLATES}?name=notice")
    assert status == 400

    other = await _approved(stack, "reminder", "Your appointment is tomorrow.")
    await stack.call(
        "POST", f"/_sandbox/templates/{other}/category", {"category": "MARKETING", "notice": True}
    )
    await stack.call("POST", f"/_sandbox/templates/{other}/category", {"category": "MARKETING"})
    status, rated = await stack.call(
        "POST", f"/_sandbox/templates/{other}/quality", {"score": "YELLOW"}
    )
    assert rated["quality_score"] == {"score": "YELLOW"}
    await stack.settle()
    notice, change = stack.receiver.changes("template_category_update")
    assert (notice["new_category"], notice["correct_category"]) == ("UTILITY", "MARKETING")
    assert (change["previous_category"], change["new_category"]) == ("UTILITY", "MARKETING")
    (quality,) = stack.receiver.changes("message_template_quality_update")
    assert (quality["previous_quality_score"], quality["new_quality_score"]) == (
        "UNKNOWN",
        "YELLOW",
    )

    status, body = await stack.call("POST", "/_sandbox/templates/404/pause", {})
    assert (status, body) == (404, {"error": "no such template"})
    status, body = await stack.call(
        "POST", f"/_sandbox/templates/{other}/quality", {"score": "BLUE"}
    )
    assert status == 400 and "quality" in body["error"]


async def test_marketing_to_a_customer_who_stopped_fails_131050(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _approved(stack, "weekly_sale", "Big sale this week on everything.", "MARKETING")
    preference = {"phone_number_id": PNID, "wa_id": CUSTOMER, "value": "stop"}
    assert (await stack.call("POST", "/_sandbox/user-preferences", preference))[0] == 200

    status, _ = await stack.send(_template_send("weekly_sale"))
    assert status == 200
    await stack.call("POST", "/_sandbox/user-preferences", {**preference, "value": "resume"})
    await stack.send(_template_send("weekly_sale"))
    await stack.settle()

    stop, resume = stack.receiver.changes("user_preferences")
    assert stop["user_preferences"][0]["value"] == "stop"
    assert resume["user_preferences"][0]["value"] == "resume"
    statuses = stack.receiver.statuses()
    assert [s["status"] for s in statuses] == ["failed", "sent", "delivered"]
    assert statuses[0]["errors"][0]["code"] == 131050
    assert [v["code"] for v in await _violations(stack)] == [131050]


async def test_throughput_over_the_configured_rate_gets_130429(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _customer(stack)
    await _customer(stack, **{"from": OTHER})
    status, _ = await stack.call(
        "POST", "/_sandbox/throughput", {"phone_number_id": PNID, "mps": 2}
    )
    assert status == 200

    codes = []
    for to in (CUSTOMER, OTHER, CUSTOMER):
        status, body = await stack.send(_text(to=to))
        codes.append(status if status == 200 else body["error"]["code"])

    assert codes == [200, 200, 130429]
    assert [v["code"] for v in await _violations(stack)] == [130429]


async def test_the_same_customer_faster_than_the_pair_rate_gets_131056(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(pair_burst=2)
    await _customer(stack)
    await _customer(stack, **{"from": OTHER})

    results = [(await stack.send(_text()))[0] for _ in range(3)]
    _, body = await stack.send(_text())
    other, _ = await stack.send(_text(to=OTHER))

    assert results == [200, 200, 400]
    assert body["error"]["code"] == 131056
    assert other == 200
    assert [v["code"] for v in await _violations(stack)] == [131056, 131056]


async def test_read_receipts_after_the_configured_delay_or_on_demand(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(read_after_s=0.01)
    await _customer(stack)
    await stack.send(_text())
    await stack.settle()
    assert [s["status"] for s in stack.receiver.statuses()] == ["sent", "delivered", "read"]
    assert "pricing" not in stack.receiver.statuses()[-1]

    quiet = await make_stack()
    await _customer(quiet)
    _, sent = await quiet.send(_text())
    status, _ = await quiet.call(
        "POST", "/_sandbox/customer-reads", {"wamid": sent["messages"][0]["id"]}
    )
    assert status == 200
    await quiet.settle()
    assert "read" in [s["status"] for s in quiet.receiver.statuses()]
    status, _ = await quiet.call("POST", "/_sandbox/customer-reads", {"wamid": "wamid.nope"})
    assert status == 404


async def test_v23_reports_conversation_and_v24_does_not(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _customer(stack)
    await stack.send(_text(), version="v23.0")
    await stack.settle()

    sent, delivered = stack.receiver.statuses()
    assert sent["conversation"]["origin"] == {"type": "service"}
    assert "conversation" in delivered


async def test_a_reply_to_a_click_to_whatsapp_ad_is_free_entry_point(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    referral = {
        "source_url": "https://fb.me/ad",
        "source_id": "120",
        "headline": "Sale",
        "ctwa_clid": "c1",
    }
    await _customer(stack, referral=referral)
    await stack.send(_text())
    await stack.settle()

    inbound = stack.receiver.payloads()[0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert inbound["referral"] == {"source_type": "ad", **referral}
    await stack.send(_text(body="And another thing."))
    await stack.settle()
    sent, delivered, later, _ = stack.receiver.statuses()
    assert later["conversation"]["id"] == sent["conversation"]["id"]
    assert sent["pricing"]["type"] == "free_entry_point"
    assert sent["pricing"]["category"] == "referral_conversion"
    assert sent["conversation"]["origin"] == {"type": "referral_conversion"}
    assert "expiration_timestamp" in sent["conversation"]
    assert "expiration_timestamp" not in delivered["conversation"]


async def test_customers_send_every_type_and_traffic_is_listed(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _customer(stack)
    _, sent = await stack.send(_text())
    wamid = sent["messages"][0]["id"]
    await _customer(stack, type="button", button={"text": "Stop"}, context={"id": wamid})
    await _customer(stack, type="image", image={"caption": "this one"})
    await _customer(stack, type="location", location={"latitude": 1, "longitude": 2})
    status, refused = await stack.call(
        "POST",
        "/_sandbox/customer-messages",
        {"phone_number_id": PNID, "from": CUSTOMER, "type": "button"},
    )
    assert status == 400 and "context" in refused["error"]
    await stack.settle()

    kinds = [
        c["messages"][0]["type"] for c in stack.receiver.changes("messages") if "messages" in c
    ]
    assert kinds == ["text", "button", "image", "location"]
    status, traffic = await stack.call("GET", f"/_sandbox/messages?phone_number_id={PNID}")
    assert [m["kind"] for m in traffic["received"]] == kinds
    assert [m["wamid"] for m in traffic["sent"]] == [wamid]
    status, none = await stack.call("GET", "/_sandbox/messages?phone_number_id=42")
    assert none == {"sent": [], "received": []}


async def test_mark_as_read_of_a_received_message(make_stack: StackFactory) -> None:
    stack = await make_stack()
    inbound = await _customer(stack)
    read = {"messaging_product": "whatsapp", "status": "read", "message_id": inbound}
    assert await stack.send(read) == (200, {"success": True})
    status, body = await stack.send({**read, "message_id": "wamid.unknown"})
    assert (status, body["error"]["code"]) == (400, 131009)


async def test_webhooks_refused_by_ingest_are_retried(make_stack: StackFactory) -> None:
    stack = await make_stack()
    stack.receiver.refuse_next = 2
    await _customer(stack)
    await stack.settle()

    assert len(stack.receiver.bodies) == 3
    assert stack.sender.delivered == 1


async def test_reset_forgets_everything_and_a_seed_repeats_ids(make_stack: StackFactory) -> None:
    first = await make_stack(seed=7)
    second = await make_stack(seed=7)
    ids_first = [await _customer(first) for _ in range(3)]
    ids_second = [await _customer(second) for _ in range(3)]
    assert ids_first == ids_second
    await first.send(_text(to=OTHER))

    status, _ = await first.call("POST", "/_sandbox/reset", {"seed": 7})
    assert status == 200
    assert await _violations(first) == []
    assert await first.call("GET", "/_sandbox/messages") == (200, {"sent": [], "received": []})
    assert [await _customer(first) for _ in range(3)] == ids_first


async def test_the_last_webhooks_are_kept_for_inspection(make_stack: StackFactory) -> None:
    stack = await make_stack()
    inbound = await _customer(stack)
    await stack.settle()

    status, kept = await stack.call("GET", "/_sandbox/webhooks")
    assert status == 200 and kept["count"] == 1
    assert kept["webhooks"][0]["entry"][0]["changes"][0]["value"]["messages"][0]["id"] == inbound
    await stack.call("POST", "/_sandbox/reset", {})
    assert (await stack.call("GET", "/_sandbox/webhooks"))[1]["count"] == 0


async def test_metrics_count_sends_violations_webhooks_and_faults(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await _customer(stack)
    await stack.send(_text())
    await stack.send(_text(to=OTHER))
    await stack.send({**_text(), "text": {"body": ""}})
    await stack.call("PUT", "/_sandbox/faults", {"server_error_rate": 1})
    await stack.send(_text())
    await stack.settle()

    async with stack.client.get("/metrics") as resp:
        text = await resp.text()
    for line in (
        'wagate_sandbox_sends_total{outcome="accepted"} 2.0',
        'wagate_sandbox_sends_total{outcome="refused"} 1.0',
        'wagate_sandbox_violations_total{code="131047"} 1.0',
        'wagate_sandbox_webhooks_total{outcome="delivered"} 4.0',
        'wagate_sandbox_faults_total{fault="server_error"} 1.0',
    ):
        assert line in text, line


async def test_read_edit_and_unpause_a_template_by_id(make_stack: StackFactory) -> None:
    stack = await make_stack()
    template_id = await _approved(stack, "visit", "Your visit is confirmed.")
    one = f"/v24.0/{template_id}"

    status, read = await stack.call("GET", one)
    assert (status, read["status"], read["name"]) == (200, "APPROVED", "visit")
    new_body = [{"type": "BODY", "text": "Your visit is confirmed. Enjoy 10% off!"}]
    assert await stack.call("POST", one, {"components": new_body}) == (200, {"success": True})
    await stack.settle()
    _, reviewed = await stack.call("GET", one)
    assert (reviewed["status"], reviewed["category"]) == ("APPROVED", "MARKETING")
    assert reviewed["components"] == new_body
    status, again = await stack.call("POST", one, {"components": new_body})
    assert (status, again["error"]["code"]) == (400, 100)
    assert "24 hours" in again["error"]["error_data"]["details"]

    await stack.call("POST", f"/_sandbox/templates/{template_id}/pause", {})
    assert await stack.call("POST", f"{one}/unpause") == (200, {"success": True})
    status, twice = await stack.call("POST", f"{one}/unpause")
    assert (status, twice["error"]["code"]) == (400, 100)
    status, missing = await stack.call("GET", "/v24.0/424242")
    assert (status, missing["error"]["code"]) == (400, 100)


async def test_a_template_turning_red_is_paused(make_stack: StackFactory) -> None:
    stack = await make_stack()
    template_id = await _approved(stack, "alert", "Your account alert is ready.")

    status, rated = await stack.call(
        "POST", f"/_sandbox/templates/{template_id}/quality", {"score": "RED"}
    )
    await stack.settle()

    assert (status, rated["status"], rated["quality_score"]) == (200, "PAUSED", {"score": "RED"})
    (quality,) = stack.receiver.changes("message_template_quality_update")
    assert quality["new_quality_score"] == "RED"
    events = [c["event"] for c in stack.receiver.changes("message_template_status_update")]
    assert events == ["APPROVED", "PAUSED"]


async def test_the_name_of_a_deleted_approved_template_is_reserved(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await _approved(stack, "welcome", "Welcome to the shop.")
    rejected = await _approved(stack, "draft", "Draft {{#1}} text today.")
    await stack.call("DELETE", f"{TEMPLATES}?name=draft&hsm_id={rejected}")
    await stack.call("DELETE", f"{TEMPLATES}?name=welcome")

    status, body = await stack.call("POST", TEMPLATES, _new_template("welcome", "Welcome!"))
    assert (status, body["error"]["code"]) == (400, 100)
    assert "30 days" in body["error"]["error_data"]["details"]
    status, _ = await stack.call("POST", TEMPLATES, _new_template("draft", "Draft text."))
    assert status == 200


async def test_a_paused_template_unpauses_on_its_own(make_stack: StackFactory) -> None:
    stack = await make_stack(pause_durations_s=[0.05, 0.1])
    template_id = await _approved(stack, "status", "Your repair is done.")

    await stack.call("POST", f"/_sandbox/templates/{template_id}/pause", {})
    await stack.settle()
    await stack.call("POST", f"/_sandbox/templates/{template_id}/pause", {})
    await stack.settle()
    await stack.call("POST", f"/_sandbox/templates/{template_id}/pause", {})
    await stack.settle()

    events = [
        (c["event"], c.get("other_info", {}).get("title"))
        for c in stack.receiver.changes("message_template_status_update")
    ]
    assert events == [
        ("APPROVED", None),
        ("PAUSED", "FIRST_PAUSE"),
        ("APPROVED", "UNPAUSE"),
        ("PAUSED", "SECOND_PAUSE"),
        ("APPROVED", "UNPAUSE"),
        ("DISABLED", "DISABLED"),
    ]


async def test_a_customer_not_on_whatsapp_fails_131026_without_a_violation(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    await _customer(stack)
    body = {"wa_id": "+1 650-555-1234", "reachable": False}
    assert await stack.call("POST", "/_sandbox/reachability", body) == (
        200,
        {"wa_id": CUSTOMER, "reachable": False},
    )
    await stack.send(_text())
    await stack.call("POST", "/_sandbox/reachability", {**body, "reachable": True})
    await stack.send(_text())
    await stack.settle()

    statuses = stack.receiver.statuses()
    assert [s["status"] for s in statuses] == ["failed", "sent", "delivered"]
    assert statuses[0]["errors"][0]["code"] == 131026
    assert await _violations(stack) == []
    status, _ = await stack.call("POST", "/_sandbox/reachability", {"wa_id": CUSTOMER})
    assert status == 400


async def test_a_paced_template_holds_messages_then_releases_or_drops_them(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack(held_s=0.05)
    template_id = await _approved(stack, "flash", "New arrivals in store this week.", "MARKETING")
    control = f"/_sandbox/templates/{template_id}"
    status, paced = await stack.call("POST", f"{control}/pacing", {"paced": True})
    assert (status, paced["paced"]) == (200, True)

    _, released = await stack.send(_template_send("flash"))
    await stack.settle()
    _, dropped = await stack.send(_template_send("flash"))
    await stack.call("POST", f"{control}/pause", {})
    await stack.settle()
    await stack.call("POST", f"{control}/unpause", {})
    await stack.call("POST", f"{control}/pacing", {"paced": False})
    _, normal = await stack.send(_template_send("flash"))

    held = "held_for_quality_assessment"
    assert released["messages"][0]["message_status"] == held
    assert dropped["messages"][0]["message_status"] == held
    assert normal["messages"][0]["message_status"] == "accepted"
    statuses = [(s["id"], s["status"]) for s in stack.receiver.statuses()]
    first, second = released["messages"][0]["id"], dropped["messages"][0]["id"]
    assert statuses == [(first, "sent"), (first, "delivered"), (second, "failed")]
    assert stack.receiver.statuses()[-1]["errors"][0]["code"] == 132015
    _, traffic = await stack.call("GET", "/_sandbox/messages")
    assert [m["error"] for m in traffic["sent"]] == [None, 132015, None]
    assert await _violations(stack) == []
