"""A record read into events is searched value by value only when its text leaves room for a
NUL, an unpaired surrogate, a number that is not finite or nesting too deep: whatever the text
lets through holds none (checked against pydantic's own reading), and what it holds back is
still refused as before."""

from __future__ import annotations

import json
from typing import Any

import pydantic_core
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import codec
from shared.errors import DecodeError
from shared.events import plain
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.plain import MAX_DEPTH
from tests.shared.hostile import HOSTILE_JSON, nested

LITERALS = st.sampled_from(
    ["NaN", "-Infinity", "1e400", "1E+308", "-2.5e999", "1e0400", "9" * 250 + "e99",
     "9" * 310 + ".0", "1" + "0" * 400, "0.5", "-0.0", "1e-400", "123e45"]
)  # fmt: skip


@st.composite
def texts(draw: st.DrawFn) -> bytes:
    """JSON as any writer may give it: hostile values, escaped or not, some numbers spelled
    out (the non-standard ones too), now and then nested to about MAX_DEPTH."""
    value: Any = draw(HOSTILE_JSON)
    for _ in range(draw(st.sampled_from([0, 0, MAX_DEPTH - 1, MAX_DEPTH + 1]))):
        value = [value]
    try:
        text = json.dumps(value, ensure_ascii=draw(st.booleans()))
        text.encode()
    except UnicodeEncodeError:
        text = json.dumps(value)
    literal = draw(LITERALS)
    text = draw(st.sampled_from([text, f'{{"n": {literal}, "v": {text}}}', f"[{text},{literal}]"]))
    return text.encode()


@given(texts())
def test_a_text_cleared_holds_nothing_the_search_would_refuse(raw: bytes) -> None:
    try:
        value = pydantic_core.from_json(raw, allow_inf_nan=True)
    except ValueError:  # not JSON to pydantic either: nothing is read from it
        return
    if plain.read_fits(raw):
        assert plain.unfit(value, plain_text=True) is None


@pytest.mark.parametrize(
    "raw",
    [
        b'{"n": NaN}',
        b'{"n": [1, -Infinity]}',
        b'{"n": 1e400}',
        b'{"n":  -1.5E+999}',
        b'{"n": ' + b"9" * 250 + b"e99}",
        b'{"t": "x\\u0000"}',
        b'{"t": "\\ud83d"}',
        json.dumps({"a": nested(MAX_DEPTH)}).encode(),
    ],
)
def test_a_text_that_may_hide_a_problem_is_searched(raw: bytes) -> None:
    assert not plain.read_fits(raw)


def test_an_intent_as_written_is_cleared_from_its_text() -> None:
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id="106540352242922", to="16505551234",
        content=TemplateContent(name="order_shipped", language="en_US", components=[
            {"type": "body", "parameters": [{"type": "text", "text": "order 7 😀, 2.5 kg"}]}
        ]),
    )  # fmt: skip
    assert plain.read_fits(codec.encode(intent))


@pytest.mark.parametrize(
    ("parameter", "problem"),
    [
        ("x\\u0000", "holds a NUL"),
        ("1e400 at ", None),  # text, not a number: read as it is
    ],
)
def test_a_nul_in_an_intent_s_text_is_still_refused(parameter: str, problem: str | None) -> None:
    raw = (
        b'{"event_id": "e", "producer": "p", "intent_id": "i", "phone_number_id": "1", '
        b'"to": "16505551234", "content": {"type": "template", "name": "t", "language": "en", '
        b'"components": [{"type": "body", "parameters": [{"type": "text", "text": "'
        + parameter.encode()
        + b'"}]}]}}'
    )
    if problem is None:
        codec.decode(OutboundIntentSubmitted, raw)
        return
    with pytest.raises(DecodeError, match=problem):
        codec.decode(OutboundIntentSubmitted, raw)


def test_a_non_finite_number_in_an_intent_is_still_refused() -> None:
    raw = (
        b'{"event_id": "e", "producer": "p", "intent_id": "i", "phone_number_id": "1", '
        b'"to": "16505551234", "content": {"type": "template", "name": "t", "language": "en", '
        b'"components": [{"type": "body", "parameters": [{"type": "x", "n": 1e400}]}]}}'
    )
    with pytest.raises(DecodeError, match="not a finite number"):
        codec.decode(OutboundIntentSubmitted, raw)


def test_events_built_in_python_are_searched_whatever_was_read_before() -> None:
    codec.decode(OutboundIntentSubmitted, codec.encode(_intent("fine")))  # a text cleared
    with pytest.raises(ValueError, match="NUL"):
        _intent("x\x00")


def _intent(text: str) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id="106540352242922", to="16505551234",
        content=TemplateContent(name="t", language="en", components=[
            {"type": "body", "parameters": [{"type": "text", "text": text}]}
        ]),
    )  # fmt: skip
