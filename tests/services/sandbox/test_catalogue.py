"""Template management over HTTP: the creation rules, the review, reading and editing by id, and
what Meta does to a template (pause, unpause, disable, re-categorise, rate its quality)."""

from __future__ import annotations

from tests.services.sandbox.conftest import (
    TEMPLATES,
    Stack,
    StackFactory,
    approved_template,
    new_template,
    template_send,
    violations_of,
)

THREE_PAUSES = [
    ("APPROVED", None),
    ("PAUSED", "FIRST_PAUSE"),
    ("APPROVED", "UNPAUSE"),
    ("PAUSED", "SECOND_PAUSE"),
    ("APPROVED", "UNPAUSE"),
    ("DISABLED", "DISABLED"),
]
"""Approved, paused and unpaused twice, then disabled by the third pause."""


def _status_events(stack: Stack) -> list[tuple[str, str | None]]:
    """Each template status webhook's event, with the title of its `other_info` if any."""
    return [
        (c["event"], c.get("other_info", {}).get("title"))
        for c in stack.receiver.changes("message_template_status_update")
    ]


async def test_template_lifecycle_create_review_send_delete(make_stack: StackFactory) -> None:
    stack = await make_stack(review_delay_s=0.05)
    status, created = await stack.call(
        "POST", TEMPLATES, new_template("shipping_update", "Your order {{1}} has shipped today.")
    )
    assert status == 200
    assert created["status"] == "PENDING" and created["category"] == "UTILITY"
    status, early = await stack.send(template_send("shipping_update"))
    assert (status, early["error"]["code"]) == (400, 132001)

    await stack.settle()
    (approved,) = stack.receiver.changes("message_template_status_update")
    assert approved["event"] == "APPROVED"
    assert approved["message_template_id"] == int(created["id"])
    assert approved["message_template_category"] == "UTILITY"
    status, listed = await stack.call("GET", f"{TEMPLATES}?name=shipping_update")
    assert [t["status"] for t in listed["data"]] == ["APPROVED"]

    body = {"type": "body", "parameters": [{"type": "text", "text": "860198"}]}
    status, sent = await stack.send(template_send("shipping_update", body))
    assert status == 200, sent
    assert sent["messages"][0]["message_status"] == "accepted"
    await stack.settle()
    paid = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    assert [s["pricing"] for s in stack.receiver.statuses()] == [paid, paid]

    status, deleted = await stack.call("DELETE", f"{TEMPLATES}?name=shipping_update")
    assert (status, deleted) == (200, {"success": True})
    await stack.settle()
    assert stack.receiver.changes("message_template_status_update")[-1]["event"] == "DELETED"
    status, gone = await stack.send(template_send("shipping_update", body))
    assert (status, gone["error"]["code"]) == (400, 132001)
    assert [v["code"] for v in await violations_of(stack)] == [132001, 132001]


async def test_promotional_utility_is_approved_as_marketing(make_stack: StackFactory) -> None:
    stack = await make_stack()
    template_id = await approved_template(
        stack, "order_deal", "Order {{1}} shipped, enjoy 20% off a deal!"
    )

    (status,) = stack.receiver.changes("message_template_status_update")
    assert (status["event"], status["message_template_category"]) == ("APPROVED", "MARKETING")
    (category,) = stack.receiver.changes("template_category_update")
    assert category["message_template_id"] == int(template_id)
    assert (category["previous_category"], category["new_category"]) == ("UTILITY", "MARKETING")


async def test_a_malformed_variable_is_rejected_invalid_format(make_stack: StackFactory) -> None:
    stack = await make_stack()
    await approved_template(stack, "bad_vars", "Your order {{#1}} has shipped today.")

    (rejected,) = stack.receiver.changes("message_template_status_update")
    assert (rejected["event"], rejected["reason"]) == ("REJECTED", "INVALID_FORMAT")
    assert rejected["rejection_info"]["reason"] == "INVALID_FORMAT"
    _, listed = await stack.call("GET", f"{TEMPLATES}?status=REJECTED")
    assert [t["rejected_reason"] for t in listed["data"]] == ["INVALID_FORMAT"]


async def test_creation_errors_and_wrong_waba(make_stack: StackFactory) -> None:
    stack = await make_stack()
    status, body = await stack.call(
        "POST", TEMPLATES, {**new_template("x", "Hi"), "name": "Bad Name"}
    )
    assert (status, body["error"]["code"]) == (400, 100)
    await approved_template(stack, "hello", "Hello there.")
    status, body = await stack.call("POST", TEMPLATES, new_template("hello", "Hello again."))
    assert (status, body["error"]["code"]) == (400, 100)
    assert "already exists" in body["error"]["error_data"]["details"]
    status, body = await stack.call("GET", "/v24.0/999/message_templates")
    assert (status, body["error"]["code"]) == (400, 100)
    status, body = await stack.call("DELETE", TEMPLATES)
    assert (status, body["error"]["code"]) == (400, 131008)


async def test_pause_unpause_disable_recategorise_and_quality(make_stack: StackFactory) -> None:
    stack = await make_stack()
    template_id = await approved_template(stack, "notice", "Your appointment is confirmed.")
    control = f"/_sandbox/templates/{template_id}"

    status, paused = await stack.call("POST", f"{control}/pause", {})
    assert (status, paused["status"]) == (200, "PAUSED")
    status, refused = await stack.send(template_send("notice"))
    assert (status, refused["error"]["code"]) == (400, 132015)
    await stack.call("POST", f"{control}/unpause", {})
    status, _ = await stack.send(template_send("notice"))
    assert status == 200
    await stack.call("POST", f"{control}/pause", {})
    await stack.call("POST", f"{control}/unpause", {})
    status, third = await stack.call("POST", f"{control}/pause", {})
    assert third["status"] == "DISABLED"
    status, refused = await stack.send(template_send("notice"))
    assert (status, refused["error"]["code"]) == (400, 132016)
    await stack.settle()

    assert _status_events(stack) == THREE_PAUSES
    status, _ = await stack.call("DELETE", f"{TEMPLATES}?name=notice")
    assert status == 400

    other = await approved_template(stack, "reminder", "Your appointment is tomorrow.")
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


async def test_read_edit_and_unpause_a_template_by_id(make_stack: StackFactory) -> None:
    stack = await make_stack()
    template_id = await approved_template(stack, "visit", "Your visit is confirmed.")
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
    template_id = await approved_template(stack, "alert", "Your account alert is ready.")

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
    await approved_template(stack, "welcome", "Welcome to the shop.")
    rejected = await approved_template(stack, "draft", "Draft {{#1}} text today.")
    await stack.call("DELETE", f"{TEMPLATES}?name=draft&hsm_id={rejected}")
    await stack.call("DELETE", f"{TEMPLATES}?name=welcome")

    status, body = await stack.call("POST", TEMPLATES, new_template("welcome", "Welcome!"))
    assert (status, body["error"]["code"]) == (400, 100)
    assert "30 days" in body["error"]["error_data"]["details"]
    status, _ = await stack.call("POST", TEMPLATES, new_template("draft", "Draft text."))
    assert status == 200


async def test_a_paused_template_unpauses_on_its_own(make_stack: StackFactory) -> None:
    stack = await make_stack(pause_durations_s=[0.05, 0.1])
    template_id = await approved_template(stack, "status", "Your repair is done.")

    await stack.call("POST", f"/_sandbox/templates/{template_id}/pause", {})
    await stack.settle()
    await stack.call("POST", f"/_sandbox/templates/{template_id}/pause", {})
    await stack.settle()
    await stack.call("POST", f"/_sandbox/templates/{template_id}/pause", {})
    await stack.settle()

    assert _status_events(stack) == THREE_PAUSES
