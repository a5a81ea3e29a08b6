"""Pure checks of one webhook POST before anything is kept: its signature and its body."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared import webhook_signature

_PREFIX = "sha256="
_HEX = frozenset("0123456789abcdef")
MAX_DEPTH = 32  # Meta's payloads nest under 10 levels; deeper is hostile


def signature_failure(body: bytes, header: str | None, secrets: Sequence[str]) -> str | None:
    """None when `header` signs `body` under one of `secrets` (rotation), else why not:
    `missing`, `malformed` or `mismatch` (bounded values, used as a metric label)."""
    if not header:
        return "missing"
    given = header[len(_PREFIX) :].strip().lower() if header.startswith(_PREFIX) else ""
    if len(given) != 64 or not set(given) <= _HEX:
        return "malformed"
    if not webhook_signature.verify(body, header, secrets):
        return "mismatch"
    return None


@dataclass(frozen=True)
class Parsed:
    """A body that is a JSON object, and its text exactly as received (UTF-8)."""

    payload: dict[str, Any]
    text: str


class _NotStandard(ValueError):
    """A number standard JSON cannot hold: `NaN`, `Infinity`, or one too large for a double."""


def _constant(literal: str) -> float:
    raise _NotStandard(f"body has the non-standard JSON literal {literal}")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotStandard("body has a number too large to hold")
    return value


def parse_body(body: bytes) -> Parsed | str:
    """The body as a standard JSON object, or why it is not one (the reply's text for a 400).
    Python's parser takes `NaN` and `Infinity` and turns `1e999` into infinity: refused here,
    since no event could carry them as Meta sent them."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "body is not UTF-8"
    try:
        payload = json.loads(text, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        return "body is nested too deeply"
    except _NotStandard as exc:
        return str(exc)
    except ValueError:  # JSONDecodeError, and integers beyond Python's digit limit
        return "body is not JSON"
    if not isinstance(payload, dict):
        return "body is not a JSON object"
    if _deeper_than(payload, MAX_DEPTH):
        return "body is nested too deeply"
    if _has_lone_surrogate(text, payload):
        return "body has invalid unicode escapes"
    return Parsed(payload, text)


def _deeper_than(value: object, limit: int) -> bool:
    """True when `value` nests objects/arrays more than `limit` deep (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return False


def _has_lone_surrogate(text: str, payload: dict[str, Any]) -> bool:
    """`\\ud800`-style escapes decode to strings no event can be encoded with."""
    if "\\u" not in text:
        return False
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
