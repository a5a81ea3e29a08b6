"""Who a change's items are about (rules §4.3, §9.1): its `contacts[]`, each with the
identifiers and profile Meta gives, and which contact is a message's sender. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.ingest import coerce, identities
from services.ingest.coerce import Malformed
from shared.events.identity import CustomerIdentity


@dataclass(frozen=True)
class Contact:
    """One `contacts[]` item: the identifiers it gives and the profile name."""

    identity: CustomerIdentity
    name: str | None

    def names(self, who: CustomerIdentity) -> bool:
        """Whether this contact is about the customer `who` names (same BSUID or same phone)."""
        mine, theirs = self.identity, who
        if mine.user_id is not None and theirs.user_id is not None:
            return mine.user_id == theirs.user_id
        return mine.wa_id is not None and mine.wa_id == theirs.wa_id


def contact_of(contact: object) -> Contact | None:
    """The identifiers and profile name of one `contacts[]` item, None when it names no
    customer; a malformed contact raises."""
    item = coerce.clean_item(contact)
    profile = coerce.obj(item.get("profile"), "profile")
    name = coerce.string(profile.get("name"), "profile.name")
    username = _username(profile.get("username"))
    found = identities.optional_identity(item, identities.CONTACT, username=username)
    return None if found is None else Contact(found, name)


def sender_contact(who: CustomerIdentity, contacts: Sequence[Contact]) -> Contact | None:
    """The contact about the sender `who`: the one with the same BSUID or phone, else the only
    contact of the change (Meta describes the sender there, its `wa_id` may differ from
    `from` in Brazil and Mexico)."""
    for contact in contacts:
        if contact.names(who):
            return contact
    if len(contacts) == 1:
        only = contacts[0].identity
        if only.wa_id is not None and (only.user_id is None or who.user_id is None):
            return contacts[0]
    return None


def _username(raw: object) -> str | None:
    value = coerce.string(raw, "profile.username")
    if value is None or value == "":
        return None
    if len(value) > 64 or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise Malformed("`profile.username` is longer than 64 characters or carries a control")
    return value
