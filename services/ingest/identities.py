"""Who a webhook item names (rules §4.4, §9.1): the customer's phone, business-scoped user id
(BSUID) and parent BSUID, each kept exactly as Meta gave it. Pure.

A BSUID is `<ISO 3166 alpha-2>.<1 to 128 letters or digits>` (parents may read `<CC>.ENT.<...>`);
a phone is the digits WhatsApp spells a number with (E.164: at most 15). Anything else in those
fields is malformed, never read into a phone or into a BSUID.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.ingest.coerce import Malformed, at
from shared.events.identity import BSUID_MAX as BSUID_MAX
from shared.events.identity import (
    BSUID_PATTERN,
    PARENT_BSUID_MAX,
    PARENT_BSUID_PATTERN,
    WA_ID_PATTERN,
    CustomerIdentity,
    is_bsuid,
)

PHONE = re.compile(WA_ID_PATTERN)
BSUID = re.compile(BSUID_PATTERN)
PARENT_BSUID = re.compile(PARENT_BSUID_PATTERN)


@dataclass(frozen=True)
class Fields:
    """Where one kind of item names its customer: the phone field, its BSUID field and the
    spellings of its parent BSUID field (the first present is read, every one is checked)."""

    phone: str
    bsuid: str
    parents: tuple[str, ...]


SENDER = Fields("from", "from_user_id", ("from_parent_user_id",))
RECIPIENT = Fields(
    "recipient_id",
    "recipient_user_id",
    # Meta's pages spell the parent three ways (§9.1); all are read.
    ("parent_recipient_user_id", "recipient_parent_user_id", "parent_user_id"),
)
CONTACT = Fields("wa_id", "user_id", ("parent_user_id",))
SYSTEM_NOW = Fields("wa_id", "user_id", ("parent_user_id",))
SYSTEM_BEFORE = Fields("", "previous_user_id", ("previous_parent_user_id",))


def bsuid_problem(value: object, *, parent: bool = False) -> str | None:
    """What is wrong with `value` as a BSUID (or parent BSUID); None when it is well formed."""
    if not isinstance(value, str):
        return "is not a string"
    pattern = PARENT_BSUID if parent else BSUID
    if pattern.fullmatch(value):  # the pattern bounds the length and holds letters and digits
        return None
    limit = PARENT_BSUID_MAX if parent else BSUID_MAX
    if len(value) > limit:
        return f"is longer than {limit} characters"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "carries a control character (CR, LF, ...)"
    return "is not a BSUID (`CC.` then 1 to 128 letters or digits)"


def identity_of(
    item: Mapping[str, Any], fields: Fields, where: str = "", username: str | None = None
) -> CustomerIdentity:
    """Every identifier an item gives for its customer; an item that gives none, or gives
    one malformed, raises Malformed."""
    found = optional_identity(item, fields, where, username)
    if found is None:
        raise Malformed(
            f"`{at(where, fields.phone)}` and `{at(where, fields.bsuid)}` are both missing: "
            "no customer"
        )
    return found


def optional_identity(
    item: Mapping[str, Any], fields: Fields, where: str = "", username: str | None = None
) -> CustomerIdentity | None:
    """The identifiers an item gives, None when it gives none (an empty `wa_id` is absent)."""
    phone = optional_phone(item, fields, where)
    bsuid = _bsuid(item, fields.bsuid, where, parent=False)
    parents = [_bsuid(item, name, where, parent=True) for name in fields.parents]
    parent = next((p for p in parents if p is not None), None)
    if phone is None and bsuid is None and parent is None:
        return None
    return CustomerIdentity(wa_id=phone, user_id=bsuid, parent_user_id=parent, username=username)


def optional_phone(item: Mapping[str, Any], fields: Fields, where: str = "") -> str | None:
    """The phone in `fields.phone`, None when absent or empty; anything but digits raises."""
    if not fields.phone:
        return None
    raw = item.get(fields.phone)
    return None if raw is None or raw == "" else _phone(raw, at(where, fields.phone))


def _bsuid(item: Mapping[str, Any], name: str, where: str, *, parent: bool) -> str | None:
    value = item.get(name)
    if value is None or value == "":
        return None
    problem = bsuid_problem(value, parent=parent)
    if problem is not None:
        raise Malformed(f"`{at(where, name)}` {problem}")
    return str(value)


def _phone(raw: object, where: str) -> str:
    if not isinstance(raw, str):  # Meta spells phones as strings of digits, never numbers
        raise Malformed(f"`{where}` is not a string")
    if PHONE.fullmatch(raw):
        return raw
    if is_bsuid(raw):
        raise Malformed(f"`{where}` holds a BSUID, not a phone (a BSUID has fields of its own)")
    raise Malformed(f"`{where}` is neither a phone number (digits) nor a BSUID")
