"""Message keys: the entity whose ordering matters, so related events share a partition."""

from __future__ import annotations

import re

from shared.events.identity import is_bsuid

_NOT_DIGITS = re.compile(r"\D")


def normalize_wa_id(customer: str) -> str:
    """One spelling of a customer identifier: a phone as WhatsApp spells it, digits only
    (`+1 650-555-1234` -> `16505551234`); a BSUID exactly as given (it is never a number)."""
    if is_bsuid(customer):
        return customer
    return _NOT_DIGITS.sub("", customer)


def conversation_key(phone_number_id: str, customer: str) -> str:
    """Key of everything about one business number and one customer (windows, intents,
    updates); `customer` is a phone or a BSUID."""
    return f"{phone_number_id}:{normalize_wa_id(customer)}"
