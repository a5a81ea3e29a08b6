"""Text and numbers an event may carry: no NUL (PostgreSQL keeps none), no unpaired surrogate
(no UTF-8 consumer can), no number that is not finite (standard JSON has none), at most
MAX_DEPTH levels. The strict reading of bodies (`shared.strict_json`) uses the same checks."""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel

MAX_DEPTH = 32
"""How deep a JSON value may nest: Meta's payloads and wagate's APIs nest under 10 levels."""
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")  # keys a message repeats as they are


def plain_event(data: Any) -> Any:
    """`data` (an event as decoded, before validation) unchanged, or ValueError naming the
    first string or key holding a NUL or an unpaired surrogate, or number that is not finite,
    known field or not: an event a business system produces carries none (PostgreSQL keeps no
    NUL, standard JSON has no `NaN`), so a record with one is dead-lettered, not decided."""
    problem = unfit(data, plain_text=True)
    if problem is not None:
        raise ValueError(problem.replace("$.", "", 1).replace("$", "the event", 1))
    return data


def encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unfit(value: object, plain_text: bool) -> str | None:
    """Why a parsed body is refused (the first problem, with its path), or None."""
    fit = _plain if plain_text else encodes
    what = "a NUL or an unpaired surrogate" if plain_text else "an unpaired surrogate"
    stack: list[tuple[object, str, int]] = [(value, "$", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"{path} nests deeper than {MAX_DEPTH} levels"
        if isinstance(item, BaseModel):  # an event built in Python holds models, not dicts
            item = item.model_dump()
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
        elif isinstance(item, float) and not math.isfinite(item):
            return f"{path} is not a finite number"
    return None


def _plain(text: str) -> bool:
    return "\x00" not in text and encodes(text)
