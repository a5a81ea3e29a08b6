"""Text and numbers an event may carry: no NUL (PostgreSQL keeps none), no unpaired surrogate
(no UTF-8 consumer can), no number that is not finite (standard JSON has none), at most
MAX_DEPTH levels. The strict reading of bodies (`shared.strict_json`) uses the same checks."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import BaseModel

MAX_DEPTH = 32
"""How deep a JSON value may nest: Meta's payloads and wagate's APIs nest under 10 levels."""
_SHOWN_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")  # keys a message repeats as they are
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)")  # one escape of a JSON string
_FOLDED = bytes.maketrans(b"123456789E", b"000000000e")  # a digit as 0, an exponent as e
_LONG_RUN = b"0" * 200
_EXPONENTS = (b"0e000", b"0e+000", b"0e-000")  # folded, after a digit as JSON has them
_IN_NUMBER = frozenset(b"0.-")  # folded
_BEFORE_NUMBER = frozenset(b":,[ \t\r\n")
_READ_FITS: ContextVar[bool] = ContextVar("plain_read_fits", default=False)


def plain_event(data: Any) -> Any:
    """`data` (an event as decoded, before validation) unchanged, or ValueError naming the
    first string or key holding a NUL or an unpaired surrogate, or number that is not finite,
    known field or not: an event a business system produces carries none (PostgreSQL keeps no
    NUL, standard JSON has no `NaN`), so a record with one is dead-lettered, not decided."""
    if _READ_FITS.get():  # read from a text `read_fits` cleared: nothing to find in it
        return data
    problem = unfit(data, plain_text=True)
    if problem is not None:
        raise ValueError(problem.replace("$.", "", 1).replace("$", "the event", 1))
    return data


@contextmanager
def reading(raw: bytes) -> Iterator[None]:
    """While JSON `raw` is read into events: when its text alone shows it holds nothing
    `plain_event` refuses (`read_fits`), their validators need not look at every value."""
    token = _READ_FITS.set(read_fits(raw))
    try:
        yield
    finally:
        _READ_FITS.reset(token)


def read_fits(raw: bytes) -> bool:
    """True when JSON `raw`, however a reader takes it, holds nothing `unfit(plain_text=True)`
    refuses, told from the text: a NUL or an unpaired surrogate only as an escape (raw control
    characters and invalid UTF-8 are not JSON), a number that is not finite only as `NaN`,
    `Infinity` or one too large (`_huge_number`), and no value nests deeper than the brackets
    the text opens. False may still fit: the value is then searched."""
    if b"NaN" in raw or b"Infinity" in raw or b"\x00" in raw:
        return False
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH:
        return False
    if b"\\u" in raw:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return False
        if not escapes_fit(text, plain_text=True):
            return False
    return not _huge_number(raw)


def _huge_number(raw: bytes) -> bool:
    """`raw` may spell a number too large for a double: a run of 200 digits, or a number whose
    exponent has 3 digits (with fewer digits and an exponent of at most 99 it stays under
    1e308). An `1e123` inside a word or a string is no number: before its digits come other
    letters or a quote, not the start of a value."""
    folded = raw.translate(_FOLDED)
    if _LONG_RUN in folded:
        return True
    for exponent in _EXPONENTS:
        found = folded.find(exponent)
        while found != -1:
            at = found
            while at >= 0 and folded[at] in _IN_NUMBER:
                at -= 1
            if at < 0 or folded[at] in _BEFORE_NUMBER:
                return True
            found = folded.find(exponent, found + 1)
    return False


def escapes_fit(text: str, plain_text: bool) -> bool:
    """No `\\u` escape of JSON `text` (every backslash of which begins an escape) is a NUL
    (with `plain_text`) or a surrogate a reader leaves unpaired: a high one (D800-DBFF) is
    paired only by a low one (DC00-DFFF) escaped right after it."""
    high_ends = -1  # where the last high surrogate's escape ended, while it waits for its low
    for escape in _ESCAPE.finditer(text):
        code = int(escape[1], 16) if escape[1] is not None else -1
        if 0xDC00 <= code <= 0xDFFF and high_ends == escape.start():
            high_ends = -1
        elif high_ends != -1 or 0xDC00 <= code <= 0xDFFF or (plain_text and code == 0):
            return False
        elif 0xD800 <= code <= 0xDBFF:
            high_ends = escape.end()
    return high_ends == -1


def encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unfit(value: object, plain_text: bool) -> str | None:
    """Why a parsed body is refused (the first problem, with its path), or None."""
    fit = _plain if plain_text else encodes
    if _fits(value, fit):  # the usual case, without building a path for every value
        return None
    return _first_problem(value, fit, plain_text)


def _fits(value: object, fit: Callable[[str], bool]) -> bool:
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, BaseModel):
            item = item.model_dump()
        if isinstance(item, str):
            if not fit(item):
                return False
        elif isinstance(item, dict):
            for key, child in item.items():
                if not fit(key):
                    return False
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, float) and not math.isfinite(item):
            return False
    return True


def _first_problem(value: object, fit: Callable[[str], bool], plain_text: bool) -> str | None:
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
    return "\x00" not in text and (text.isascii() or encodes(text))
