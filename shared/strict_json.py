"""The strict reading of a JSON body every door applies (ingest's webhooks, the templates API,
the sandbox): a JSON object in UTF-8, standard finite numbers only, at most MAX_DEPTH levels,
no unpaired surrogate anywhere and (for plain text) no NUL; and path or query values free of
control characters. Pure: the HTTP side is `shared.http.json_object`."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from shared.errors import PermanentError
from shared.events.plain import MAX_DEPTH, encodes, escapes_fit, unfit

_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))


class BadInput(PermanentError):
    """A body or value refused before any handler looks at it: `status` 400 or 413, and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _NotStandard(ValueError):
    """A number standard JSON cannot hold: `NaN`, `Infinity`, or one too large for a double."""


def parse_object(raw: bytes, *, plain_text: bool = True, what: str = "the body") -> dict[str, Any]:
    """`raw` as a JSON object (`parse_value`), or BadInput 400 saying why not."""
    value = parse_value(raw, plain_text=plain_text, what=what)
    if not isinstance(value, dict):
        raise BadInput(400, f"{what} must be a JSON object")
    return value


def parse_value(raw: bytes, *, plain_text: bool = True, what: str = "the body") -> Any:
    """`raw` as a JSON value, or BadInput 400 saying why not (`what` names it): not UTF-8,
    not JSON, a non-standard literal (`NaN`, `Infinity`: Python's parser takes them) or a
    number too large for a double (`1e999` would become infinity), an integer too long to
    read, deeper than MAX_DEPTH, a string or key with an unpaired surrogate (no UTF-8 consumer
    can keep it), or (with `plain_text`) with a NUL, which no PostgreSQL text column keeps.
    Without `plain_text` a NUL is left for the door to judge item by item (ingest, the Cloud
    API)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(400, f"{what} is not UTF-8 (byte {exc.start})") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except _NotStandard as exc:
        raise BadInput(400, f"{what} {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BadInput(400, f"{what} is not JSON: {exc}") from exc
    except ValueError as exc:  # an integer of over 4300 digits
        raise BadInput(400, f"{what} is not standard JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadInput(400, f"{what} nests deeper than {MAX_DEPTH} levels") from exc
    problem = None if _surely_fits(text, value, plain_text) else unfit(value, plain_text)
    if problem is not None:
        raise BadInput(400, f"{what}: {problem}" if what != "the body" else problem)
    return value


def unsafe_value(values: Iterable[tuple[str, str]]) -> str | None:
    """The name of the first (name, value) whose value holds a control character (CR, LF,
    NUL...) or an unpaired surrogate: no identifier, name or filter wagate knows has one."""
    for name, value in values:
        if not _CONTROL.isdisjoint(value) or not encodes(value):
            return name
    return None


def _surely_fits(text: str, value: Any, plain_text: bool) -> bool:
    """True when `value`, read from `text` by `parse_value`, holds nothing `unfit` refuses,
    told from the text without a look at every string: strict UTF-8 carries no surrogate, so
    JSON holds an unpaired one only as an escape (`plain.escapes_fit`), and a NUL only as
    `\\u0000`; the reading refused every number that is not finite; and no value nests deeper
    than the brackets the text opens. False may still fit: `unfit` then looks at every value."""
    if "\\u" in text and not escapes_fit(text, plain_text):
        return False
    return text.count("{") + text.count("[") <= MAX_DEPTH or _shallow(value)


def _shallow(value: Any) -> bool:
    """No value of `value` nests deeper than MAX_DEPTH (the containers alone are walked)."""
    stack: list[tuple[Any, int]] = [(value, 0)] if isinstance(value, dict | list) else []
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if not children:
            continue
        if depth >= MAX_DEPTH:  # its children sit deeper than MAX_DEPTH
            return False
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return True


def _refuse_constant(literal: str) -> Any:
    raise _NotStandard(f"has the non-standard JSON literal {literal}")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _NotStandard(f"has a number too large to hold ({literal[:32]})")
    return value
