"""Reading Meta's loosely typed JSON: every wrong shape is a ValueError or TypeError naming
where it was, never a crash of another kind, and reasons keep phone numbers masked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.ingest import coerce


def test_lists_and_objects_accept_none_and_refuse_other_shapes() -> None:
    assert coerce.dicts(None, "x") == [] and coerce.obj(None, "x") == {}
    assert coerce.dicts([{"a": 1}], "x") == [{"a": 1}]
    with pytest.raises(TypeError, match="`messages` is not a list of objects"):
        coerce.dicts([{"a": 1}, 2], "messages")
    with pytest.raises(TypeError, match="`metadata` is not an object"):
        coerce.obj([], "metadata")


@pytest.mark.parametrize(
    ("raw", "error"),
    [(None, TypeError), (True, TypeError), (1.5, TypeError), ("", ValueError)],
)
def test_an_identifier_is_a_non_empty_string_or_integer(raw: object, error: type) -> None:
    assert coerce.text(1689556908129832, "id") == "1689556908129832"
    assert coerce.optional_text(None, "id") is None
    with pytest.raises(error, match="`id`"):
        coerce.text(raw, "id")


def test_timestamps_are_epoch_seconds_in_utc() -> None:
    assert coerce.timestamp("1750091045") == datetime(2025, 6, 16, 16, 24, 5, tzinfo=UTC)
    assert coerce.timestamp(1750091045) == coerce.timestamp("1750091045")
    assert coerce.optional_timestamp(None, "entry.time") is None
    with pytest.raises(ValueError, match="out of range"):
        coerce.timestamp(10**20)
    with pytest.raises(ValueError):
        coerce.timestamp("soon")


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
    assert reason.startswith("ValueError: wa_id 16***34 ")
    assert len(reason) <= 300
