"""Message keys: the entity whose ordering matters, so related events share a partition."""

from __future__ import annotations

import re

_NOT_DIGITS = re.compile(r"\D")


def normalize_wa_id(phone: str) -> str:
    """Digits only, as WhatsApp ids are spelled (`+1 650-555-1234` -> `16505551234`)."""
    return _NOT_DIGITS.sub("", phone)


def conversation_key(phone_number_id: str, wa_id: str) -> str:
    """Key of everything about one business number and one customer (windows, intents, updates)."""
    return f"{phone_number_id}:{normalize_wa_id(wa_id)}"
