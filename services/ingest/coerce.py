"""Pure helpers that read Meta's loosely typed JSON defensively: every failure is a ValueError
or TypeError the normaliser turns into an `unparsed` fragment, never a crash."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from shared.logs import mask_phone

_LONG_DIGITS = re.compile(r"\d{7,}")
_REASON_MAX = 300
# Exceptions a hostile fragment can raise while being read; anything else is a bug.
FRAGMENT_ERRORS = (KeyError, ValueError, TypeError, AttributeError, OverflowError, RecursionError)


def dicts(raw: object, where: str) -> list[dict[str, Any]]:
    """`raw` as a list of objects (None -> []); any other shape raises TypeError."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise TypeError(f"`{where}` is not a list of objects")
    return raw


def obj(raw: object, where: str) -> dict[str, Any]:
    """`raw` as an object (None -> {}); any other shape raises TypeError."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise TypeError(f"`{where}` is not an object")
    return raw


def text(raw: object, where: str) -> str:
    """A required identifier: a non-empty string or integer, as a string."""
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise TypeError(f"`{where}` is not a string")
    value = str(raw)
    if not value:
        raise ValueError(f"`{where}` is empty")
    return value


def optional_text(raw: object, where: str) -> str | None:
    return None if raw is None else text(raw, where)


def timestamp(raw: object, where: str = "timestamp") -> datetime:
    """Meta's epoch seconds (a string or an integer) as an aware UTC datetime."""
    seconds = int(text(raw, where))
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"`{where}` out of range: {seconds}") from exc


def optional_timestamp(raw: object, where: str) -> datetime | None:
    return None if raw is None else timestamp(raw, where)


def language(raw: object) -> str | None:
    """One spelling of a language code: `en-US` and `en_US` both become `en_US`."""
    if raw is None:
        return None
    parts = text(raw, "language").replace("-", "_").split("_")
    head, rest = parts[0].lower(), parts[1:]
    return "_".join([head, *(p.upper() if len(p) == 2 else p for p in rest)])


def fingerprint(*parts: object) -> str:
    """A stable digest of JSON values, for natural keys of facts Meta gives no id."""
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def reason(exc: BaseException) -> str:
    """Why a fragment was not understood, short and with no phone number in clear."""
    message = f"{type(exc).__name__}: {exc}"[:_REASON_MAX]
    return _LONG_DIGITS.sub(lambda m: mask_phone(m.group()), message)
