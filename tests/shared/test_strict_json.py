"""The strict reading every door applies: a JSON object in UTF-8, standard finite numbers only,
at most MAX_DEPTH levels, no unpaired surrogate and (for plain text) no NUL in its text; path
and query values free of control characters."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import strict_json
from shared.events.plain import unfit
from shared.strict_json import MAX_DEPTH, BadInput
from tests.shared.hostile import HOSTILE_JSON, RAW_BODIES, nested


@pytest.mark.parametrize("name", list(RAW_BODIES))
def test_every_raw_hostile_body_is_refused_with_400(name: str) -> None:
    with pytest.raises(BadInput) as refused:
        strict_json.parse_object(RAW_BODIES[name])
    assert refused.value.status == 400 and str(refused.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": "\xff"}', "the body is not UTF-8 (byte 7)"),
        (b'{"a": NaN}', "the body has the non-standard JSON literal NaN"),
        (b'{"a": [1, Infinity]}', "the body has the non-standard JSON literal Infinity"),
        (b'{"a": -Infinity}', "the body has the non-standard JSON literal -Infinity"),
        (b'{"a": 1e400}', "the body has a number too large to hold (1e400)"),
        (b'{"n": ' + b"9" * 5000 + b"}", "the body is not standard JSON"),
        (b'{"entry": [', "the body is not JSON"),
        (b"[1]", "the body must be a JSON object"),
        (b'{"a": [{"b": "x\\u0000"}]}', "$.a[0].b holds a NUL or an unpaired surrogate"),
        (b'{"a": {"\\ud83d": 1}}', "a key in $.a holds a NUL or an unpaired surrogate"),
        (b'{"k\\r\\n": ["\\udc00"]}', "$.?[0] holds a NUL or an unpaired surrogate"),
        (json.dumps({"a": nested(MAX_DEPTH)}).encode(), f"nests deeper than {MAX_DEPTH} levels"),
        (b"[" * 50_000 + b"]" * 50_000, f"the body nests deeper than {MAX_DEPTH} levels"),
    ],
)
def test_the_refusal_says_what_and_where(raw: bytes, message: str) -> None:
    with pytest.raises(BadInput) as refused:
        strict_json.parse_object(raw)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    "value",
    [
        {"a": nested(MAX_DEPTH - 1)},
        {"text": "line one\r\nline two\ttabbed", "emoji": "😀", "rtl": "\u202e"},
        {"n": 10**4000, "f": 1e308, "z": -0.0},
    ],
)
def test_what_stays_within_the_rules_is_read_as_sent(value: dict[str, Any]) -> None:
    assert strict_json.parse_object(json.dumps(value).encode()) == value


def test_a_nul_is_kept_where_plain_text_is_not_asked_for() -> None:
    assert strict_json.parse_object(b'{"a": "x\\u0000"}', plain_text=False) == {"a": "x\x00"}


@pytest.mark.parametrize("raw", [b'{"t": "\\ud800"}', b'{"\\udfff": 1}'])
def test_an_unpaired_surrogate_is_refused_even_where_a_nul_is_kept(raw: bytes) -> None:
    with pytest.raises(BadInput, match="holds an unpaired surrogate"):
        strict_json.parse_object(raw, plain_text=False)


@given(HOSTILE_JSON)
def test_any_json_is_read_or_refused_with_400_never_crashes(value: Any) -> None:
    try:
        read = strict_json.parse_object(json.dumps(value).encode())
    except BadInput as refused:
        assert refused.status == 400
    else:
        assert read == value


@pytest.mark.parametrize(
    ("values", "offender"),
    [
        ([("waba_id", "102290129340398"), ("name", "shipping_update")], None),
        ([("name", "ship\r\nX-Injected: 1")], "name"),
        ([("a", "ok"), ("b", "x\x00")], "b"),
        ([("a", "\x7f")], "a"),
        ([("a", "\ud800")], "a"),
        ([("a", "é 😀 \u202e")], None),
    ],
)
def test_path_and_query_values_with_control_characters_are_named(
    values: list[tuple[str, str]], offender: str | None
) -> None:
    assert strict_json.unsafe_value(values) == offender


def _deep(draw: st.DrawFn) -> Any:
    """HOSTILE_JSON, sometimes wrapped in lists and objects to about MAX_DEPTH levels."""
    value = draw(HOSTILE_JSON)
    for _ in range(draw(st.sampled_from([0, 0, MAX_DEPTH - 2, MAX_DEPTH - 1, MAX_DEPTH]))):
        value = draw(st.sampled_from([[value], {"k": value}, [value, []], {"a": 1, "b": value}]))
    return value


@given(st.data(), st.booleans(), st.booleans())
def test_the_refusal_is_the_full_search_s_whether_or_not_the_text_told_it_first(
    data: st.DataObject, ascii_only: bool, plain_text: bool
) -> None:
    value = _deep(data.draw)
    try:
        raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    except UnicodeEncodeError:  # a lone surrogate is no UTF-8: it comes escaped or not at all
        raw = json.dumps(value).encode()
    expected = unfit(json.loads(raw), plain_text)
    try:
        strict_json.parse_value(raw, plain_text=plain_text)
    except BadInput as refused:
        assert expected is not None and expected in str(refused)
    else:
        assert expected is None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\ud83d\\ude00 \\u00e9", "b": [1, 2.5, {"c": null}]}',
        json.dumps({"a": nested(MAX_DEPTH - 1)}).encode(),
        json.dumps({"entry": [{"changes": [{"statuses": [{"p": {}}] * 40}]}]}).encode(),
    ],
)
def test_a_body_of_plain_text_is_judged_from_its_text(raw: bytes) -> None:
    text = raw.decode()
    assert strict_json._surely_fits(text, json.loads(text), plain_text=True)


@pytest.mark.parametrize(
    ("raw", "plain_text"),
    [
        (b'{"a": "x\\u0000"}', True),
        (json.dumps({"a": nested(MAX_DEPTH)}).encode(), False),
    ],
)
def test_a_body_whose_text_may_hide_a_problem_is_searched(raw: bytes, plain_text: bool) -> None:
    text = raw.decode()
    assert not strict_json._surely_fits(text, json.loads(text), plain_text)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\ud800"}',
        b'{"a": "\\uDFFF"}',
        b'{"a": "\\ud83d\\ud83d\\ude00"}',
        b'{"a": "\\ud83d\\ude00\\ude00"}',
        b'{"a": "\\ud83d x\\ude00"}',
        b'{"a": "\\\\ud83d\\ude00"}',  # an escaped backslash, then a lone low surrogate
        b'{"a": "\\ud83d", "b": "\\ude00"}',
        b'{"a": "\\ud83d\\n"}',
    ],
)
def test_an_unpaired_surrogate_escape_is_never_taken_for_a_pair(raw: bytes) -> None:
    text = raw.decode()
    assert unfit(json.loads(text), plain_text=False) is not None
    assert not strict_json._surely_fits(text, json.loads(text), plain_text=False)
    with pytest.raises(BadInput, match="unpaired surrogate"):
        strict_json.parse_object(raw, plain_text=False)
