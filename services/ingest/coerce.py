"""Pure helpers that read Meta's loosely typed JSON defensively: a part that is not what Meta
sends raises `Malformed`, a shape Meta sends that ingest does not type yet raises `NotTypedYet`,
and the normaliser keeps either as an unparsed fragment with its reason, never a crash."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TypeVar

from shared.events.plain import unfit
from shared.logs import mask_phone

_LONG_DIGITS = re.compile(r"\d{7,}")
_REASON_MAX = 300
_IDENTIFIER = re.compile(r"[\x21-\x7e]{1,256}")  # printable ASCII, no space or control
_GRAPH_ID = re.compile(r"[0-9]{1,32}")
_SECONDS = re.compile(r"[0-9]{1,12}")
T = TypeVar("T")


class Malformed(ValueError):
    """A part Meta would never send (wrong type, missing field, NUL, bad identifier)."""


class NotTypedYet(ValueError):
    """A shape Meta does send that ingest does not turn into a typed event yet."""


_CHECKED: ContextVar[bool] = ContextVar("ingest_checked_body", default=False)

# Exceptions a hostile fragment can raise while being read; anything else is a bug.
FRAGMENT_ERRORS = (KeyError, ValueError, TypeError, AttributeError, OverflowError, RecursionError)


def at(where: str, name: str) -> str:
    """The path of `name` inside `where` (an item's own fields have no prefix)."""
    return f"{where}.{name}" if where else name


def an_object(raw: object, where: str) -> dict[str, Any]:
    """`raw`, which must be an object (None too is malformed)."""
    if not isinstance(raw, dict):
        raise Malformed(f"`{where}` is not an object" if where else "not an object")
    return raw


def clean_item(raw: object) -> dict[str, Any]:
    """An array element as an object free of NUL and non-finite numbers."""
    item = an_object(raw, "")
    clean(item, "")
    return item


def dicts(raw: object, where: str) -> list[dict[str, Any]]:
    """`raw` as a list of objects (None -> []); any other shape is malformed."""
    items = elements(raw, where)
    if not all(isinstance(x, dict) for x in items):
        raise Malformed(f"`{where}` is not a list of objects")
    return items  # type: ignore[return-value]


def elements(raw: object, where: str) -> list[object]:
    """`raw` as a list (None -> []), each element still to be judged on its own."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Malformed(f"`{where}` is not a list")
    return raw


def obj(raw: object, where: str) -> dict[str, Any]:
    """`raw` as an object (None -> {}); any other shape is malformed."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Malformed(f"`{where}` is not an object")
    return raw


def text(raw: object, where: str) -> str:
    """A required value: a non-empty string or integer, as a string."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise Malformed(f"`{where}` is not a string")
    value = str(raw)
    if not value:
        raise Malformed(f"`{where}` is empty")
    return value


def optional_text(raw: object, where: str) -> str | None:
    return None if raw is None else text(raw, where)


def string(raw: object, where: str) -> str | None:
    """Free text Meta may leave out (None); anything but a string is malformed."""
    if raw is not None and not isinstance(raw, str):
        raise Malformed(f"`{where}` is not a string")
    return raw


def identifier(raw: object, where: str) -> str:
    """An opaque id such as a wamid, a string of printable ASCII without spaces, at most 256
    characters (Meta never sends one as a number)."""
    if not isinstance(raw, str):
        raise Malformed(f"`{where}` is not a string")
    return _matching(raw, where, _IDENTIFIER, "a well-formed identifier")


def graph_id(raw: object, where: str) -> str:
    """A Graph API object id (WABA, business number, template): digits only."""
    return _matching(raw, where, _GRAPH_ID, "a Graph id (digits)")


def optional(read: Callable[[object, str], T], raw: object, where: str) -> T | None:
    """`read(raw, where)`, or None when Meta left the value out."""
    return None if raw is None else read(raw, where)


def _matching(raw: object, where: str, shape: re.Pattern[str], what: str) -> str:
    value = text(raw, where)
    if not shape.fullmatch(value):
        raise Malformed(f"`{where}` is not {what}")
    return value


def timestamp(raw: object, where: str = "timestamp") -> datetime:
    """Meta's epoch seconds (a string of digits or an integer) as an aware UTC datetime."""
    value = text(raw, where)
    if not _SECONDS.fullmatch(value):
        raise Malformed(f"`{where}` is not epoch seconds: {value[:30]!r}")
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise Malformed(f"`{where}` out of range: {value}") from exc


def optional_timestamp(raw: object, where: str) -> datetime | None:
    return None if raw is None else timestamp(raw, where)


def language(raw: object) -> str | None:
    """One spelling of a language code: `en-US` and `en_US` both become `en_US`."""
    if raw is None:
        return None
    parts = identifier(raw, "language").replace("-", "_").split("_")
    head, rest = parts[0].lower(), parts[1:]
    return "_".join([head, *(p.upper() if len(p) == 2 else p for p in rest)])


@contextmanager
def checked_body() -> Iterator[None]:
    """Inside the block, the values read are parts of a body already found to hold no NUL, no
    lone surrogate and no number that is not finite (`verify.Parsed.plain`): `clean` has
    nothing to find in them."""
    token = _CHECKED.set(True)
    try:
        yield
    finally:
        _CHECKED.reset(token)


def clean(value: object, where: str) -> None:
    """Every string of `value` (keys too) free of NUL and encodable, every number finite:
    a consumer must be able to store whatever a typed event carries."""
    if _CHECKED.get() or unfit(value, plain_text=True) is None:  # without a path per value
        return
    stack: list[tuple[object, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            _clean_text(item, path)
        elif isinstance(item, float) and not math.isfinite(item):
            raise Malformed(f"`{path or 'value'}` is not a finite number")
        elif isinstance(item, dict):
            for key, child in item.items():
                _clean_text(str(key), at(path, "<key>"))
                stack.append((child, at(path, str(key)[:40])))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{i}]") for i, child in enumerate(item))


def _clean_text(value: str, path: str) -> None:
    if "\x00" in value:
        raise Malformed(f"`{path or 'value'}` carries a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise Malformed(f"`{path or 'value'}` carries a lone surrogate") from exc


def fingerprint(*parts: object) -> str:
    """A stable digest of JSON values, for natural keys of facts Meta gives no id."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def reason(exc: BaseException, where: str = "") -> str:
    """Why a fragment was not typed, short and with no phone number in clear: `malformed: ...`
    for input Meta would never send, `not typed yet: ...` for a shape ingest cannot type yet."""
    kind = "not typed yet" if isinstance(exc, NotTypedYet) else "malformed"
    detail = (
        str(exc) if isinstance(exc, Malformed | NotTypedYet) else f"{type(exc).__name__}: {exc}"
    )
    message = f"{kind}: {where + ': ' if where else ''}{detail}"[:_REASON_MAX]
    return _LONG_DIGITS.sub(lambda m: mask_phone(m.group()), message)
