"""Hypothesis strategies for what a hostile or broken client sends any API door: text with NUL,
CR/LF, unpaired surrogates and oversized runs, numbers past every limit, values nested deeply,
keys nobody asked for, and raw bodies that are not UTF-8 or not standard JSON."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from shared.strict_json import MAX_DEPTH

INJECTED = "X-Injected"
"""A header name hostile text tries to smuggle in; it must never come back as a header."""
TRICKY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\r\n",
    f"name\r\n{INJECTED}: 1",
    f"name\n{INJECTED}: 1",
    "\ud800",
    "a\udfffb",
    "\t\x0b\x0c",
    "\x7f",
    "\u202e\u2066",
    "\ufeff",
    "😀" * 3,
    "%00",
    "9223372036854775808",
    "-9223372036854775809",
    "1e400",
    "%0d%0a",
    "'; DROP TABLE templates; --",
    "{{1}}",
    "<script>alert(1)</script>",
    "x" * 5000,
]
HOSTILE_TEXT = st.sampled_from(TRICKY_TEXT) | st.text(
    st.characters(codec=None, exclude_categories=()), max_size=40
)
"""Any text, surrogates and control characters included."""
HOSTILE_NUMBER = (
    st.sampled_from(
        [0, -1, 2**31, 2**63, -(2**63) - 1, 10**40, 0.5, -0.0, 1e308, -1e308, True, False]
    )
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
)
HOSTILE_SCALAR = st.none() | HOSTILE_TEXT | HOSTILE_NUMBER
HOSTILE_JSON = st.recursive(
    HOSTILE_SCALAR,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_TEXT, inner, max_size=4),
    max_leaves=12,
)


def nested(depth: int, leaf: Any = 1) -> Any:
    """`leaf` inside `depth` levels of alternating objects and arrays."""
    value = leaf
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


RAW_BODIES: dict[str, bytes] = {
    "empty": b"",
    "not-json": b"{not json",
    "trailing-garbage": b'{"a": 1} x',
    "latin-1": '{"name": "caf\xe9"}'.encode("latin-1"),
    "invalid-utf8": b'{"name": "\xff\xfe"}',
    "truncated-utf8": b'{"name": "\xc3"}',
    "utf16": '{"name": "a"}'.encode("utf-16"),
    "bom": b'\xef\xbb\xbf{"name": "a"}',
    "nan": b'{"a": NaN}',
    "infinity": b'{"a": Infinity}',
    "minus-infinity": b'{"a": [-Infinity]}',
    "long-number": b'{"a": ' + b"9" * 5000 + b"}",
    "deep-arrays": b"[" * 100_000 + b"]" * 100_000,
    "deep-objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "too-deep": json.dumps({"a": nested(MAX_DEPTH + 1)}).encode(),
    "nul-escape": b'{"name": "a\\u0000b"}',
    "nul-in-key": b'{"a\\u0000": 1}',
    "lone-surrogate": b'{"name": "\\ud800"}',
    "array": b"[1, 2]",
    "string": b'"text"',
    "null": b"null",
    "number": b"42",
}
"""Bodies every JSON door refuses with 400, whatever the route."""


@st.composite
def mutated(draw: st.DrawFn, valid: Any) -> Any:
    """`valid` with one to three values replaced by hostile ones, or a key nobody asked for."""
    value = valid
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(value)))
        if draw(st.booleans()) and isinstance(value_at(value, path), dict):
            value = replaced(
                value, path, {**value_at(value, path), draw(HOSTILE_TEXT): draw(HOSTILE_JSON)}
            )
        elif path:
            value = replaced(value, path, draw(HOSTILE_JSON))
    return value


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += paths(v, (*prefix, i))
    return found


def value_at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = replaced(value[path[0]], path[1:], new)
    return copy
