"""Each event becomes the rows it adds: customers by any identifier, intents with their
codes redacted, decisions without their sealed values, dead letters with their headers."""

from __future__ import annotations

import json

import pytest

from services.console import projection
from services.console.projection import Batch, customer_of
from shared import deadletters
from tests.services.console import facts


@pytest.mark.parametrize(
    ("identifier", "customer", "kind"),
    [
        ("+1 650-555-1234", "16505551234", "phone"),
        ("16505551234", "16505551234", "phone"),
        ("US.13491208655302741918", "US.13491208655302741918", "bsuid"),
        ("US.ENT.11815799212886844830", "US.ENT.11815799212886844830", "bsuid"),
        ("us.1349", "1349", "phone"),
    ],
)
def test_a_customer_by_any_identifier(identifier: str, customer: str, kind: str) -> None:
    assert customer_of(identifier) == (customer, kind)


def test_every_table_gets_rows_of_its_own_width() -> None:
    batch = facts.batch_of(facts.story())
    for table in projection.TABLES:
        for row in batch.rows.get(table.name, []):
            assert len(row) == len(table.columns)
    assert {t for t in batch.rows} >= {"console_intents", "console_decisions",
                                       "console_deliveries", "console_windows"}  # fmt: skip


def test_a_one_time_code_is_never_stored_and_sealed_values_never_are() -> None:
    intent = facts.otp()
    decision = facts.decided(intent, "approved", [], 21, pricing="authentication")
    record = facts.dead_intent_record("dl", intent, source="wagate.intents.v1")
    batch = facts.batch_of([intent, decision], [record])
    stored = json.dumps(batch.rows, default=str)
    assert facts.OTP not in stored and "sealed-token" not in stored


@pytest.mark.parametrize(
    ("pricing", "redacted"),
    [("authentication", True), ("free_entry_point", True), (None, True), ("utility", False),
     ("marketing", False), ("free_service", False)],
)  # fmt: skip
def test_a_decision_whose_price_hides_the_category_has_its_codes_redacted(
    pricing: str | None, redacted: bool
) -> None:
    decision = facts.decided(facts.otp(), "approved", [], 21, pricing="x")
    decision = decision.model_copy(update={"pricing": pricing})
    (row,) = facts.batch_of([decision]).rows["console_decisions"]
    assert (facts.OTP not in row[11]) is redacted


def test_a_decision_records_its_intent_too_under_the_intent_event_id() -> None:
    intent = facts.reply()
    batch = facts.batch_of([facts.decided(intent, "approved", [], 11)])
    (row,) = batch.rows["console_intents"]
    assert row[0] == intent.event_id and row[1] == intent.intent_id


def test_metadata_values_are_searchable() -> None:
    (row,) = facts.batch_of([facts.reply()]).rows["console_intents"]
    assert row[9] == ["A-1042"]


def test_identities_are_folded_once_each_in_key_order() -> None:
    batch = facts.batch_of(facts.story())
    keys = [(c, i) for c, i, *_ in batch.identities()]
    assert keys == sorted(set(keys))
    first, last = {(c, i): (f, la) for c, i, _, f, la in batch.identities()}[
        (facts.CUSTOMER, facts.CUSTOMER)
    ]
    assert first < last


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "(empty: a tombstone)"),
        (b"\xff\xfenot json", "\ufffd\ufffdnot json"),
        (b'{"a": [1, {"sealed": "x"}]}', '{\n  "a": [\n    1,\n    {}\n  ]\n}'),
    ],
)
def test_a_dead_letter_value_as_the_console_may_show_it(value: bytes | None, shown: str) -> None:
    assert projection.shown_value(value) == shown


def test_a_dead_letter_without_headers_still_has_a_row() -> None:
    record = deadletters.DeadLetter("dl", 0, 1, 0, None, b"[]", ())
    batch = Batch()
    projection.dead_letter(batch, record)
    (row,) = batch.rows["console_dead_letters"]
    assert row[4] == "(no wagate-reason header)" and row[5] is None and row[9] is None
