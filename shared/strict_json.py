"""The strict reading of a JSON body every door applies (ingest's webhooks, the templates API,
the sandbox): a JSON object in UTF-8, standard finite numbers only, at most MAX_DEPTH levels,
no unpaired surrogate anywhere and (for plain text) no NUL; and path or query values free of
control characters. Pure: the HTTP side is `shared.http.json_object`."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Any

from shared.errors import PermanentError

MAX_DEPTH = 32
"""How deep a JSON body may nest: Meta's payloads and wagate's APIs nest under 10 levels."""
_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")  # keys an error message repeats as they are


class BadInput(PermanentError):
    """A body or value refused before any handler looks at it: `status` 400 or 413, and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _NotStandard(ValueError):
    """A number standard JSON cannot hold: `NaN`, `Infinity`, or one too large for a double."""


def parse_object(raw: bytes, *, plain_text: bool = True) -> dict[str, Any]:
    """`raw` as a JSON object, or BadInput 400 saying why not: not UTF-8, not JSON, a
    non-standard literal (`NaN`, `Infinity`: Python's parser takes them) or a number too large
    for a double (`1e999` would become infinity), an integer too long to read, deeper than
    MAX_DEPTH, not an object, a string or key with an unpaired surrogate (no UTF-8 consumer can
    keep it), or (with `plain_text`) with a NUL, which no PostgreSQL text column keeps. Without
    `plain_text` a NUL is left for the door to judge item by item (ingest, the Cloud API)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(400, f"the body is not UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except _NotStandard as exc:
        raise BadInput(400, str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise BadInput(400, f"the body is not JSON: {exc}") from exc
    except ValueError as exc:  # an integer of over 4300 digits
        raise BadInput(400, f"the body is not standard JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadInput(400, f"the body nests deeper than {MAX_DEPTH} levels") from exc
    if not isinstance(value, dict):
        raise BadInput(400, "the body must be a JSON object")
    problem = _unfit(value, plain_text)
    if problem is not None:
        raise BadInput(400, problem)
    return value


def unsafe_value(values: Iterable[tuple[str, str]]) -> str | None:
    """The name of the first (name, value) whose value holds a control character (CR, LF,
    NUL...) or an unpaired surrogate: no identifier, name or filter wagate knows has one."""
    for name, value in values:
        if not _CONTROL.isdisjoint(value) or not _encodes(value):
            return name
    return None


def _refuse_constant(literal: str) -> Any:
    raise _NotStandard(f"the body has the non-standard JSON literal {literal}")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotStandard(f"the body has a number too large to hold ({literal[:32]})")
    return value


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _unfit(value: object, plain_text: bool) -> str | None:
    """Why a parsed body is refused (the first problem, with its path), or None."""
    fit = _plain if plain_text else _encodes
    what = "a NUL or an unpaired surrogate" if plain_text else "an unpaired surrogate"
    stack: list[tuple[object, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{path} nests deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            for key, child in item.items():
                if not fit(key):
                    return f"a key in {path} holds {what}"
                stack.append(
                    (child, f"{path}.{key if _SHOWN_KEY.fullmatch(key) else '?'}", depth + 1)
                )
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(item))
        elif isinstance(item, str) and not fit(item):
            return f"{path} holds {what}"
    return None


def _plain(text: str) -> bool:
    return "\x00" not in text and _encodes(text)
