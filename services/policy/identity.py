"""Who a customer is within a business portfolio (rules §9.1): one canonical key per customer,
learned from every identifier Meta reports together, and moved when the customer changes
number or BSUID. Pure: the functions read the identity table and say what to write.

The table holds `<portfolio>|<identifier>` -> canonical key, and `<portfolio>#<canonical>` ->
the identifiers leading to it. An identifier is a phone (digits, as WhatsApp spells it) or a
BSUID (as Meta gave it). Identifiers are linked only when Meta reports them together (one
message's `from` and `from_user_id`, a contact's `wa_id` beside the number written from, a
send's `input` and its answer's `wa_id`/`user_id`): never by guessing digits, never across
portfolios.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from shared.events.decisions import Address
from shared.events.identity import is_bsuid
from shared.events.intents import OutboundIntentSubmitted
from shared.events.keys import normalize_wa_id

Writes = dict[str, Any]  # key -> value; None deletes
_PHONE_SPELLING = re.compile(r"\+?[0-9 ().\-]{1,40}")


def entry_key(portfolio: str, identifier: str) -> str:
    return f"{portfolio}|{normalize_wa_id(identifier)}"


def members_key(portfolio: str, canonical: str) -> str:
    return f"{portfolio}#{canonical}"


def spelled(identifiers: Iterable[str | None]) -> list[str]:
    """The identifiers in one spelling, each once, in the order given; empty ones dropped."""
    out: list[str] = []
    for raw in identifiers:
        value = normalize_wa_id(raw) if raw else ""
        if value and value not in out:
            out.append(value)
    return out


def canonical_of(table: Mapping[str, Any], portfolio: str, identifier: str) -> str | None:
    """The canonical key the table knows `identifier` by, None when it knows no such customer."""
    found = table.get(entry_key(portfolio, identifier))
    return str(found) if found else None


def resolve(table: Mapping[str, Any], portfolio: str, identifier: str) -> str:
    """The customer's canonical key: the table's, else the identifier itself (a customer seen
    first now is known by the identifier they are addressed with)."""
    return canonical_of(table, portfolio, identifier) or normalize_wa_id(identifier)


def members(table: Mapping[str, Any], portfolio: str, canonical: str) -> list[str]:
    """Every identifier leading to `canonical` (the canonical itself included)."""
    return spelled([canonical, *(table.get(members_key(portfolio, canonical)) or [])])


def phone_of(table: Mapping[str, Any], portfolio: str, canonical: str) -> str | None:
    """A phone the customer is known by, None for a customer known only by BSUIDs."""
    return next((i for i in members(table, portfolio, canonical) if not is_bsuid(i)), None)


@dataclass(frozen=True)
class Learned:
    """What one report of identifiers means: the customer's canonical key, the table writes,
    and the canonical keys of customers found to be this one, whose state moves to it."""

    canonical: str
    writes: Writes = field(default_factory=dict)
    absorbed: tuple[str, ...] = ()


def learn(table: Mapping[str, Any], portfolio: str, identifiers: Sequence[str | None]) -> Learned:
    """Meta reported these identifiers (phone first) for one customer. The canonical key is the
    one the first known identifier has; a customer never seen is known by the first given.
    Another customer the table held under one of them is this one: it is absorbed."""
    ids = spelled(identifiers)
    if not ids:
        raise ValueError("no identifier to learn")
    known = [c for c in (canonical_of(table, portfolio, i) for i in ids) if c is not None]
    canonical = known[0] if known else ids[0]
    absorbed = tuple(dict.fromkeys(c for c in known if c != canonical))
    together = members(table, portfolio, canonical)
    for other in absorbed:
        together += members(table, portfolio, other)
    together = spelled([*together, *ids])
    if not absorbed and all(canonical_of(table, portfolio, i) == canonical for i in together):
        return Learned(canonical)
    writes: Writes = {entry_key(portfolio, i): canonical for i in together}
    writes[members_key(portfolio, canonical)] = together
    for other in absorbed:
        writes[members_key(portfolio, other)] = None
    return Learned(canonical, writes, absorbed)


def change(
    table: Mapping[str, Any],
    portfolio: str,
    previous: Sequence[str | None],
    current: Sequence[str | None],
) -> Learned:
    """The customer once known by `previous` is now known by `current` (a number change, a
    BSUID change). The identifiers `current` no longer holds name no one any more (the old
    number may be another person's tomorrow). When the canonical key was one of them, the
    customer's state moves to the first new identifier: `absorbed` then holds the old key."""
    before, now = spelled(previous), spelled(current)
    if not now:
        raise ValueError("no identifier the customer is known by now")
    known = next((c for c in (canonical_of(table, portfolio, i) for i in before) if c), None)
    old = known or (before[0] if before else now[0])
    kept = [i for i in members(table, portfolio, old) if i not in before or i in now]
    gone = [i for i in spelled([*before, *members(table, portfolio, old)]) if i not in kept]
    canonical = old if old in kept else now[0]
    others = [c for c in (canonical_of(table, portfolio, i) for i in now) if c not in {None, old}]
    together = spelled([*kept, *now, *(m for c in others for m in members(table, portfolio, c))])
    writes: Writes = {entry_key(portfolio, i): None for i in gone}
    writes |= {entry_key(portfolio, i): canonical for i in together}
    if canonical != old:
        writes[members_key(portfolio, old)] = None
    for other in others:
        writes[members_key(portfolio, str(other))] = None
    writes[members_key(portfolio, canonical)] = together
    moved = ([old] if canonical != old else []) + [str(c) for c in others if c != canonical]
    return Learned(canonical, writes, tuple(dict.fromkeys(moved)))


def apply(table: Any, writes: Writes) -> None:
    """Write `writes` into the table (a None value deletes the key)."""
    for key, value in writes.items():
        if value is None:
            if table.get(key) is not None:
                del table[key]
        else:
            table[key] = value


def impossible_recipient(intent: OutboundIntentSubmitted) -> str | None:
    """Why the intent's `to` can be no customer's phone (None when it can be): a BSUID belongs
    in `recipient`, and a number must be possible in its country's numbering plan."""
    return None if intent.to is None else _impossible_to(intent.to)


@functools.lru_cache(maxsize=65536)
def _impossible_to(to: str) -> str | None:
    """`impossible_recipient` of a `to`, kept: a worker decides for the same numbers again
    and again, and the answer is the number's alone."""
    if is_bsuid(to.strip()):
        return "`to` holds a BSUID; address a BSUID with `recipient`"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in to) or not _PHONE_SPELLING.fullmatch(to):
        return "`to` is not spelled as a phone number (digits, `+`, spaces, `-`, `()`, `.`)"
    return _no_phone(normalize_wa_id(to))


@functools.lru_cache(maxsize=65536)
def _no_phone(digits: str) -> str | None:
    """Why these digits are no possible phone number, or None (kept for the customers a
    worker decides for again and again: parsing the numbering plan is most of the check)."""
    try:
        number = phonenumbers.parse(f"+{digits}")
    except phonenumbers.NumberParseException:
        return f"`to` is no phone number ({len(digits)} digits, no country code)"
    if not phonenumbers.is_possible_number(number) and not _mexican_mobile(number):
        return f"`to` is no possible number in its country (+{number.country_code})"
    return None


def _mexican_mobile(number: phonenumbers.PhoneNumber) -> bool:
    """`52 1` + ten digits: how WhatsApp still spells Mexican mobiles (`wa_id`s read `521...`),
    though Mexico's plan dropped the `1` in 2019."""
    national = str(number.national_number)
    if number.country_code != 52 or len(national) != 11 or not national.startswith("1"):
        return False
    return phonenumbers.is_possible_number(phonenumbers.parse(f"+52{national[1:]}"))


def address_for(
    intent: OutboundIntentSubmitted, phone: str | None, category: str | None
) -> Address | None:
    """Whom dispatch addresses: the phone the intent gives, in `to`; a BSUID in `recipient`,
    except an authentication template, which only goes to a phone (Meta refuses a BSUID with
    131062): the customer's known phone then, or None when policy knows none."""
    if intent.to is not None:
        return Address(field="to", value=intent.to)
    if category == "AUTHENTICATION":
        return Address(field="to", value=phone) if phone else None
    return Address(field="recipient", value=intent.customer)
