"""Who a webhook item names (rules §4.4, §9.1): the customer's phone, which typed events carry,
or a business-scoped user id (BSUID), which ingest checks but does not type yet. Pure.

A BSUID is `<ISO 3166 alpha-2>.<1 to 128 letters or digits>` (parents `<CC>.ENT.<...>`); a
phone is the digits WhatsApp spells a number with (E.164: at most 15). Anything else in those
fields is malformed, never read into a phone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.ingest.coerce import Malformed, NotTypedYet, at

PHONE = re.compile(r"[0-9]{1,15}")
BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9]{1,128}")
PARENT_BSUID = re.compile(r"[A-Z]{2}\.(?:ENT\.)?[A-Za-z0-9]{1,128}")
BSUID_MAX = 131
PARENT_BSUID_MAX = BSUID_MAX + len("ENT.")


@dataclass(frozen=True)
class Fields:
    """Where one kind of item names its customer: the phone field, and its BSUID fields
    (name -> whether it is a parent BSUID)."""

    phone: str
    bsuids: Mapping[str, bool]


SENDER = Fields("from", {"from_user_id": False, "from_parent_user_id": True})
RECIPIENT = Fields(
    "recipient_id",
    {
        "recipient_user_id": False,
        # Meta's pages spell the parent three ways (§9.1); all are checked.
        "parent_recipient_user_id": True,
        "recipient_parent_user_id": True,
        "parent_user_id": True,
    },
)
CONTACT = Fields("wa_id", {"user_id": False, "parent_user_id": True})
SYSTEM = Fields(
    "wa_id",
    {
        "user_id": False,
        "parent_user_id": True,
        "previous_user_id": False,
        "previous_parent_user_id": True,
    },
)


def bsuid_problem(value: object, *, parent: bool = False) -> str | None:
    """What is wrong with `value` as a BSUID (or parent BSUID); None when it is well formed."""
    if not isinstance(value, str):
        return "is not a string"
    limit = PARENT_BSUID_MAX if parent else BSUID_MAX
    if len(value) > limit:
        return f"is longer than {limit} characters"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "carries a control character (CR, LF, ...)"
    if not (PARENT_BSUID if parent else BSUID).fullmatch(value):
        return "is not a BSUID (`CC.` then 1 to 128 letters or digits)"
    return None


def phone_of(item: Mapping[str, Any], fields: Fields, where: str = "") -> str:
    """The customer's phone an item names in `fields.phone`, after checking every BSUID field
    it carries. An item naming the customer only by BSUID is not typed yet."""
    bsuids = checked_bsuids(item, fields, where)
    raw = item.get(fields.phone)
    if raw is None or raw == "":
        if bsuids:
            raise NotTypedYet(
                f"names the customer only by BSUID (`{bsuids[0]}`), without `{fields.phone}`"
            )
        raise Malformed(f"`{at(where, fields.phone)}` is missing")
    return _phone(raw, at(where, fields.phone))


def optional_phone(item: Mapping[str, Any], fields: Fields, where: str = "") -> str | None:
    """The phone an item may leave out (contacts, system notices; an empty `wa_id` is absent)."""
    checked_bsuids(item, fields, where)
    raw = item.get(fields.phone)
    return None if raw is None or raw == "" else _phone(raw, at(where, fields.phone))


def checked_bsuids(item: Mapping[str, Any], fields: Fields, where: str) -> list[str]:
    """The BSUID fields `item` carries, each well formed (else the item is malformed)."""
    present = []
    for name, parent in fields.bsuids.items():
        value = item.get(name)
        if value is None:
            continue
        problem = bsuid_problem(value, parent=parent)
        if problem is not None:
            raise Malformed(f"`{at(where, name)}` {problem}")
        present.append(name)
    return present


def _phone(raw: object, where: str) -> str:
    if not isinstance(raw, str):  # Meta spells phones as strings of digits, never numbers
        raise Malformed(f"`{where}` is not a string")
    value = raw
    if PHONE.fullmatch(value):
        return value
    if bsuid_problem(value, parent=True) is None:
        raise NotTypedYet(f"`{where}` holds a BSUID, not a phone")
    raise Malformed(f"`{where}` is neither a phone number (digits) nor a BSUID")
