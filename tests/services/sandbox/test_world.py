"""The sandbox's memory: the latest customer message per pair, which templates a send can name,
records as the control API lists them, and a reset that forgets everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.sandbox.rules import codes
from services.sandbox.rules.template_model import Template
from services.sandbox.world import ReceivedMessage, SentMessage, World, as_json

T0 = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
PNID = "106540352242922"
CUSTOMER = "16505551234"


def _template(template_id: str, status: str, language: str = "en_US") -> Template:
    return Template(template_id, "order_update", language, "UTILITY", (), T0, status=status)


def test_an_older_customer_message_does_not_move_the_window_back() -> None:
    world = World()
    world.customer_wrote(PNID, CUSTOMER, T0)
    world.customer_wrote(PNID, CUSTOMER, T0 - timedelta(hours=2))

    assert world.last_message_at(PNID, CUSTOMER) == T0
    assert world.last_message_at("other-number", CUSTOMER) is None


def test_deleted_templates_cannot_be_named() -> None:
    world = World()
    for template in (
        _template("1", "APPROVED"),
        _template("2", "DELETED", "es"),
        _template("3", "PENDING_DELETION", "fr"),
    ):
        world.templates[template.id] = template

    assert list(world.live_templates()) == [("order_update", "en_US")]
    assert [t.id for t in world.template_named("order_update")] == ["1", "3"]
    assert world.template_named("order_update", "fr")[0].id == "3"


def test_records_are_listed_with_iso_times_and_violations_by_code() -> None:
    world = World()
    world.violate(T0, PNID, CUSTOMER, codes.throughput())
    world.violate(T0, PNID, CUSTOMER, codes.pair_rate(), "wamid.1")
    sent = SentMessage("wamid.1", PNID, CUSTOMER, "text", T0, None, pricing={"type": "regular"})
    world.sent[sent.wamid] = sent
    world.received.append(ReceivedMessage("wamid.2", PNID, CUSTOMER, "text", T0))

    assert [v["code"] for v in world.violations_json(None)] == [130429, 131056]
    (pair,) = world.violations_json("131056")
    assert (pair["at"], pair["wamid"]) == (T0.isoformat(), "wamid.1")
    traffic = world.traffic(PNID)
    assert traffic["sent"] == [as_json(sent)]
    assert traffic["sent"][0]["accepted_at"] == T0.isoformat()
    assert traffic["sent"][0]["pricing"] == {"type": "regular"}
    assert traffic["received"][0]["at"] == T0.isoformat()
    assert world.traffic("42") == {"sent": [], "received": [], "read_receipts": []}


def test_reset_forgets_everything() -> None:
    world = World()
    world.customer_wrote(PNID, CUSTOMER, T0)
    world.unreachable.add(CUSTOMER)
    world.templates["1"] = _template("1", "APPROVED")

    world.reset()

    assert world == World()
