"""Pure checks of one webhook POST before anything is kept: its signature and its body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared import strict_json, webhook_signature

_PREFIX = "sha256="
_HEX = frozenset("0123456789abcdef")


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
    """A body that is a JSON object, and its text exactly as received (UTF-8). `plain`: no
    string of it holds a NUL either (its text has no `\\u0000` escape, the only way JSON can
    carry one), so with the strict reading no value of it needs a further check."""

    payload: dict[str, Any]
    text: str
    plain: bool = False


def parse_body(body: bytes) -> Parsed | str:
    """The body as a standard JSON object, or why it is not one (the reply's text for a 400):
    the strict reading every door applies (`shared.strict_json`). A NUL is kept: ingest judges
    it item by item, so a valid sibling is never lost with it."""
    try:
        payload = strict_json.parse_object(body, plain_text=False)
    except strict_json.BadInput as exc:
        return str(exc)
    text = body.decode("utf-8")
    return Parsed(payload, text, plain="\\u0000" not in text)
