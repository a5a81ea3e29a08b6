"""Who a customer is to a business in 2026 (§9.1): business-scoped user IDs (BSUIDs), parent
BSUIDs, usernames and the phone Meta may withhold, and the fields each webhook carries for them.
Pure: formats, deterministic BSUIDs, the phone-sharing rule and field sets, no state or clock."""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import phonenumbers

COUNTRY = re.compile(r"[A-Z]{2}")
SCOPED_PART = re.compile(r"[A-Za-z0-9]{1,128}")
PARENT_MARK = "ENT."
BSUID_MAX = 2 + 1 + 128
PARENT_MAX = BSUID_MAX + len(PARENT_MARK)
LOOKS_SCOPED = re.compile(r"[A-Za-z]{2}\.")
"""The start of a BSUID: what tells one apart from a phone number, which has no letters."""
UNKNOWN_COUNTRY = "ZZ"
DEFAULT_NAME = "Sandbox Customer"

USERNAME = re.compile(r"[a-z0-9._]{3,35}")
DOMAIN_SUFFIXES = (".com", ".net", ".org", ".edu", ".gov", ".io", ".co", ".app", ".info", ".biz")
PHONE_MAX_DIGITS = 15  # E.164
PHONE_SHARED_FOR = timedelta(days=30)


@dataclass(frozen=True)
class Identity:
    """A customer as one business number's webhooks show them: the phone only when it may be
    shared, the BSUID of that number's portfolio, the parent BSUID of a linked portfolio."""

    wa_id: str | None = None
    user_id: str | None = None
    parent_user_id: str | None = None
    username: str | None = None


def bsuid_problem(value: object, *, parent: bool = False) -> str | None:
    """What is wrong with `value` as a BSUID (or, with `parent`, as a BSUID or parent BSUID);
    None when it is well formed. BSUIDs are otherwise opaque: nothing else is read into them."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        return "contains a control character (CR, LF, ...)"
    limit = PARENT_MAX if parent else BSUID_MAX
    if len(value) > limit:
        return f"is longer than {limit} characters"
    country, dot, rest = value.partition(".")
    if not dot:
        return "needs its country prefix and dot, e.g. US.13491208655302741918"
    if not COUNTRY.fullmatch(country):
        return "must start with an ISO 3166 alpha-2 country code in capitals, then a dot"
    if parent and rest.startswith(PARENT_MARK):
        rest = rest.removeprefix(PARENT_MARK)
    if not SCOPED_PART.fullmatch(rest):
        return "must have 1 to 128 ASCII letters or digits after the country and dot"
    return None


def username_problem(value: str) -> str | None:
    """What is wrong with `value` as a WhatsApp username (the rules of business usernames, which
    user usernames share); None when it is valid. Compare usernames with `.lower()`."""
    name = value.lower()
    if not USERNAME.fullmatch(name):
        return "must be 3 to 35 characters of a-z, 0-9, '.' and '_'"
    if not any(c.isalpha() for c in name):
        return "needs at least one letter"
    if name.startswith(".") or name.endswith(".") or ".." in name:
        return "cannot start or end with a period or have two in a row"
    if name.startswith("www") or name.endswith(DOMAIN_SUFFIXES):
        return "cannot look like a web address (www prefix or domain suffix)"
    return None


def phone_problem(digits: str) -> str | None:
    """What is wrong with a phone number once reduced to its digits; None when it can be one."""
    if not digits:
        return "must contain digits"
    if len(digits) > PHONE_MAX_DIGITS:
        return f"has more than {PHONE_MAX_DIGITS} digits"
    return None


def withholding_problem(phone: str | None, withheld: bool, username: str | None) -> str | None:
    """Only a username adopter's phone is withheld (§9.1): a customer whose phone is withheld,
    or who is known with no phone at all, has a username."""
    if (withheld or phone is None) and not username:
        return "only a username adopter's phone is withheld: give the customer a username"
    return None


@functools.lru_cache(maxsize=65_536)  # pure, and asked of every customer again and again
def country_of(phone: str) -> str:
    """The ISO 3166 country of a phone number's calling code (`ZZ` when it has none)."""
    try:
        number = phonenumbers.parse(f"+{phone}")
    except phonenumbers.NumberParseException:
        return UNKNOWN_COUNTRY
    if number.country_code is None:
        return UNKNOWN_COUNTRY
    return phonenumbers.region_code_for_country_code(number.country_code)


def generate_bsuid(country: str, scope: str, basis: str, salt: int, *, parent: bool = False) -> str:
    """A BSUID as Meta shapes them (`US.13491208655302741918`, parents `US.ENT.…`): 20 digits
    from a hash of the portfolio (or linked set) `scope`, the customer and a salt, so the same
    history always gives the same ids."""
    digest = hashlib.sha256(f"{scope}|{basis}|{salt}".encode()).digest()
    digits = 10**19 + int.from_bytes(digest[:16]) % (9 * 10**19)
    return f"{country}.{PARENT_MARK if parent else ''}{digits}"


def phone_shared(
    phone: str | None, withheld: bool, business_messaged_at: datetime | None, now: datetime
) -> bool:
    """Whether webhooks may carry the customer's phone (§9.1): always, unless the customer is a
    username adopter who withholds it; then only while the business messaged that phone within
    the last 30 days (rule (a); the contact book and rules (b)-(d) are not modelled)."""
    if phone is None:
        return False
    if not withheld:
        return True
    return business_messaged_at is not None and now - business_messaged_at <= PHONE_SHARED_FOR


def sender_fields(who: Identity) -> dict[str, str]:
    """The identity fields of a `messages[]` item: `from` is optional, `from_user_id` always."""
    fields = {"from": who.wa_id, "from_user_id": who.user_id}
    fields["from_parent_user_id"] = who.parent_user_id
    return {k: v for k, v in fields.items() if v is not None}


def contact(who: Identity, name: str, *, with_username: bool = True) -> dict[str, Any]:
    """One `contacts[]` item: `profile` (with `username` for adopters), then the identifiers."""
    profile = {"name": name}
    if with_username and who.username is not None:
        profile["username"] = who.username
    item: dict[str, Any] = {"profile": profile}
    item.update(_ids(who))
    return item


def recipient_fields(who: Identity) -> dict[str, str]:
    """The identity fields of a `statuses[]` item (`recipient_id` absent when not shareable)."""
    fields = {"recipient_id": who.wa_id, "recipient_user_id": who.user_id}
    fields["parent_recipient_user_id"] = who.parent_user_id
    return {k: v for k, v in fields.items() if v is not None}


def status_contact(who: Identity, name: str, state: str) -> dict[str, Any] | None:
    """The `contacts[]` item beside a status: on sent, delivered and read, never on failed;
    the username only from delivered on."""
    if state == "failed" or who.user_id is None:
        return None
    return contact(who, name, with_username=state != "sent")


def preference_fields(who: Identity) -> dict[str, str]:
    """The identity fields of a `user_preferences[]` item and of its `contacts[]`."""
    return _ids(who)


def _ids(who: Identity) -> dict[str, str]:
    fields = {"wa_id": who.wa_id, "user_id": who.user_id, "parent_user_id": who.parent_user_id}
    return {k: v for k, v in fields.items() if v is not None}
