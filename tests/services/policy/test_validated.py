"""Table entries read back as models: each stored value validated once, a replaced value (by
anyone, equal or not) validated afresh, and the memory bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.policy.consent import ConsentState, Opinion
from services.policy.consent_records import ConsentRecords
from services.policy.metrics import PolicyMetrics
from services.policy.rules import PolicyConfig
from services.policy.validated import KEEP, Validated
from services.policy.windows import WindowState
from shared.metrics import new_registry

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def window(minutes: int) -> WindowState:
    return WindowState(
        last_customer_message_at=AT - timedelta(minutes=minutes), last_message_id="w"
    )


def test_a_stored_value_is_validated_once_and_a_replaced_one_again() -> None:
    table: dict[str, Any] = {"k": window(5).model_dump(mode="json")}
    entries = Validated(table, WindowState)
    first = entries.get("k")
    assert first == window(5) and entries.get("k") is first  # the same value: no new model
    table["k"] = window(5).model_dump(mode="json")  # equal, but stored anew (a recovery, say)
    again = entries.get("k")
    assert again == first and again is not first
    table["k"] = window(9).model_dump(mode="json")  # written elsewhere, not through `put`
    assert entries.get("k") == window(9)
    del table["k"]
    assert entries.get("k") is None and entries.get("never") is None


def test_put_stores_the_json_form_and_reads_back_the_model_it_was_given() -> None:
    table: dict[str, Any] = {}
    entries = Validated(table, WindowState)
    state = window(1)
    entries.put("k", state)
    assert table["k"] == state.model_dump(mode="json")
    assert entries.get("k") is state


def test_the_models_kept_are_bounded_and_reads_stay_right_past_the_bound() -> None:
    table: dict[str, Any] = {}
    entries = Validated(table, WindowState, keep=3)
    for n in range(10):
        entries.put(f"k{n}", window(n))
    assert len(entries._seen) <= 3
    assert [entries.get(f"k{n}") for n in range(10)] == [window(n) for n in range(10)]
    assert len(entries._seen) <= 3


def test_the_consent_view_follows_every_change_of_a_record_and_is_reused_otherwise() -> None:
    config = PolicyConfig(default_waba_id="102290129340398")
    table: dict[str, Any] = {}
    records = ConsentRecords(table, config, PolicyMetrics(new_registry()), lambda: AT)
    pnid, who = "106540352242922", "16505551234"
    empty = records.view(pnid, who)
    assert empty.business == {} and records.view(pnid, who) is empty
    scope = records.scope_of(pnid)
    yes = Opinion(opted_in=True, at=AT, source="form", evidence="e1")
    table[f"{scope}|{who}|3"] = ConsentState(business={"all": yes}).stored()
    seen = records.view(pnid, who)
    assert seen.business == {"all": yes} and records.view(pnid, who) is seen
    no = Opinion(opted_in=False, at=AT + timedelta(minutes=1), source="form", evidence="e2")
    table[f"{scope}|{who}|7"] = ConsentState(business={"all": no}).stored()
    assert records.view(pnid, who).business == {"all": no}  # the later word, from another record
    del table[f"{scope}|{who}|7"]
    assert records.view(pnid, who).business == {"all": yes}


def test_a_view_reads_the_records_of_each_number_of_the_business_whichever_it_is_asked_by() -> None:
    pnid, other, who = "106540352242922", "106540352240000", "16505551234"
    config = PolicyConfig(default_waba_id="102290129340398", waba_ids={other: "102290129340398"})
    table: dict[str, Any] = {}
    records = ConsentRecords(table, config, PolicyMetrics(new_registry()), lambda: AT)
    assert records.view(pnid, who).business == {} and records.view(other, who).business == {}
    yes = Opinion(opted_in=True, at=AT, source="form", evidence="kept per number")
    table[f"{other}:{who}"] = ConsentState(business={"all": yes}).stored()  # the older shape
    assert records.view(pnid, who).business == {"all": yes}
    assert records.view(other, who).business == {"all": yes}
    assert records.view(pnid, "+1 650-555-1234").business == {"all": yes}  # one spelling


def test_the_keys_kept_for_views_are_bounded() -> None:
    config = PolicyConfig(default_waba_id="102290129340398")
    table: dict[str, Any] = {}
    records = ConsentRecords(table, config, PolicyMetrics(new_registry()), lambda: AT)
    for n in range(KEEP + 10):
        records.view("106540352242922", f"1650{n:07d}")
    assert len(records._keys) <= KEEP and len(records._views) <= KEEP
