"""Reading Meta's loosely typed JSON: every wrong shape is `Malformed` naming where it was,
never a crash of another kind; identifiers, Graph ids and timestamps have Meta's shapes; text
carries no NUL; reasons say what kind of refusal they are and keep phone numbers masked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.ingest import coerce
from services.ingest.coerce import Malformed, NotTypedYet


def test_lists_and_objects_accept_none_and_refuse_other_shapes() -> None:
    assert coerce.dicts(None, "x") == [] and coerce.obj(None, "x") == {}
    assert coerce.dicts([{"a": 1}], "x") == [{"a": 1}]
    with pytest.raises(Malformed, match="`messages` is not a list of objects"):
        coerce.dicts([{"a": 1}, 2], "messages")
    with pytest.raises(Malformed, match="`metadata` is not an object"):
        coerce.obj([], "metadata")
    with pytest.raises(Malformed, match="`statuses` is not a list"):
        coerce.elements({"a": 1}, "statuses")
    assert coerce.elements([1, {"a": 1}], "statuses") == [1, {"a": 1}]
    with pytest.raises(Malformed, match="`context` is not an object"):
        coerce.an_object(None, "context")


@pytest.mark.parametrize("raw", [None, True, 1.5, "", [], {}])
def test_a_required_value_is_a_non_empty_string_or_integer(raw: object) -> None:
    assert coerce.text(1689556908129832, "id") == "1689556908129832"
    assert coerce.optional_text(None, "id") is None
    with pytest.raises(Malformed, match="`id`"):
        coerce.text(raw, "id")


IDENTIFIER, GRAPH_ID = coerce.identifier, coerce.graph_id


@pytest.mark.parametrize(
    ("read", "raw", "ok"),
    [
        (IDENTIFIER, "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", True),
        (IDENTIFIER, "wamid.two-hours-ago", True),
        (IDENTIFIER, 1689556908129832, False),
        (IDENTIFIER, "x" * 256, True),
        (IDENTIFIER, "x" * 257, False),
        (IDENTIFIER, "wamid.a b", False),
        (IDENTIFIER, "wamid.a\r\nSet-Cookie: x", False),
        (IDENTIFIER, "wamid.\x00", False),
        (IDENTIFIER, "wamid.é", False),
        (IDENTIFIER, "", False),
        (IDENTIFIER, True, False),
        (GRAPH_ID, "106540352242922", True),
        (GRAPH_ID, 102290129340398, True),
        (GRAPH_ID, "10654O352242922", False),
        (GRAPH_ID, "-1", False),
        (GRAPH_ID, "1" * 33, False),
        (GRAPH_ID, "1.5", False),
    ],
)
def test_identifiers_and_graph_ids_have_meta_s_shapes(read: Any, raw: object, ok: bool) -> None:
    if ok:
        assert read(raw, "id") == str(raw)
        assert coerce.optional(read, None, "id") is None
    else:
        with pytest.raises(Malformed, match=r"`id` is (not|empty)"):
            read(raw, "id")


def test_timestamps_are_epoch_seconds_in_utc() -> None:
    assert coerce.timestamp("1750091045") == datetime(2025, 6, 16, 16, 24, 5, tzinfo=UTC)
    assert coerce.timestamp(1750091045) == coerce.timestamp("1750091045")
    assert coerce.optional_timestamp(None, "entry.time") is None
    with pytest.raises(Malformed, match="out of range"):
        coerce.timestamp(10**12 - 1)


@pytest.mark.parametrize("raw", ["soon", " 1750091045", "1_750_091_045", "-5", "1e9", 1.5e9,
                                 "1750091045.5", True, 10**20])  # fmt: skip
def test_a_timestamp_is_only_digits(raw: object) -> None:
    with pytest.raises(Malformed, match="`timestamp`"):
        coerce.timestamp(raw)


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ({"text": {"body": "a\x00b"}}, "`item.text.body` carries a NUL character"),
        ({"a\x00": 1}, "`item.<key>` carries a NUL character"),
        (
            {"location": {"latitude": float("nan")}},
            "`item.location.latitude` is not a finite number",
        ),
        ({"v": [1, float("-inf")]}, "`item.v[1]` is not a finite number"),
        ({"name": "\ud800"}, "`item.name` carries a lone surrogate"),
    ],
)
def test_clean_finds_nul_non_finite_numbers_and_lone_surrogates(value: object, found: str) -> None:
    with pytest.raises(Malformed) as raised:
        coerce.clean(value, "item")
    assert str(raised.value) == found
    coerce.clean({"text": {"body": "Ça va? 👍", "n": [1, 2.5, None, True]}}, "item")


@pytest.mark.parametrize(
    ("raw", "language"),
    [("en-US", "en_US"), ("en_us", "en_US"), ("EN", "en"), ("zh_Hant_TW", "zh_Hant_TW")],
)
def test_one_spelling_of_a_language(raw: str, language: str) -> None:
    assert coerce.language(raw) == language
    assert coerce.language(None) is None


def test_fingerprints_are_stable_and_tell_facts_apart() -> None:
    at = datetime(2025, 6, 16, tzinfo=UTC)
    assert coerce.fingerprint("f", at, {"a": 1, "b": 2}) == coerce.fingerprint(
        "f", at, {"b": 2, "a": 1}
    )
    assert coerce.fingerprint("f", at, {"a": 1}) != coerce.fingerprint("f", at, {"a": 2})


def test_a_reason_is_short_and_masks_long_digit_runs() -> None:
    reason = coerce.reason(ValueError("wa_id 16505551234 " + "x" * 400))
    assert reason.startswith("malformed: ValueError: wa_id 16***34 ")
    assert len(reason) <= 300


@pytest.mark.parametrize(
    ("exc", "where", "reason"),
    [
        (Malformed("`from` is missing"), "entry[0].changes[0].value.messages[1]",
         "malformed: entry[0].changes[0].value.messages[1]: `from` is missing"),
        (NotTypedYet("a group message"), "entry[0]", "not typed yet: entry[0]: a group message"),
        (KeyError("x"), "", "malformed: KeyError: 'x'"),
    ],
)  # fmt: skip
def test_a_reason_says_its_kind_and_where(exc: Exception, where: str, reason: str) -> None:
    assert coerce.reason(exc, where) == reason
