"""The customers of the sandbox's world and their identifiers (§9.1): a phone (optional), one
BSUID per business portfolio, a parent BSUID for linked portfolios, a username, and whether the
phone is withheld. Any identifier finds its customer; BSUIDs are made deterministically from the
portfolio and the customer's phone, regenerated on a number change and never given out twice."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.sandbox.errors import CustomerConflict
from services.sandbox.rules.addressing import LINKED
from services.sandbox.rules.identity import (
    DEFAULT_NAME,
    LOOKS_SCOPED,
    country_of,
    generate_bsuid,
)
from shared.events.keys import normalize_wa_id


@dataclass
class Customer:
    """One WhatsApp user. `key` never changes: windows, rates and preferences hang on it."""

    key: str
    country: str
    phone: str | None = None
    user_ids: dict[str, str] = field(default_factory=dict)
    """Portfolio id -> the customer's BSUID in that portfolio."""
    parent_user_id: str | None = None
    username: str | None = None
    phone_withheld: bool = False
    name: str = DEFAULT_NAME
    numbers_changed: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "phone": self.phone,
            "user_ids": dict(self.user_ids),
            "parent_user_id": self.parent_user_id,
            "username": self.username,
            "phone_withheld": self.phone_withheld,
            "name": self.name,
            "country": self.country,
        }


@dataclass
class Directory:
    customers: dict[str, Customer] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)
    """BSUID or parent BSUID -> (customer key, owning portfolio or `LINKED`)."""
    retired: set[str] = field(default_factory=set)
    usernames: dict[str, str] = field(default_factory=dict)
    """Lower-cased username -> customer key."""

    def find(self, identifier: str) -> Customer | None:
        """The customer a phone (any spelling), BSUID or parent BSUID names, if any."""
        if LOOKS_SCOPED.match(identifier):
            owned = self.owners.get(identifier)
            return self.customers[owned[0]] if owned else None
        key = self.phones.get(normalize_wa_id(identifier))
        return self.customers[key] if key else None

    def owner(self, user_id: str) -> tuple[Customer, str] | None:
        """The customer a BSUID belongs to and its portfolio (`LINKED` for a parent BSUID)."""
        owned = self.owners.get(user_id)
        return (self.customers[owned[0]], owned[1]) if owned else None

    def for_phone(self, phone: str, portfolio: str) -> Customer:
        """The customer with that phone; someone new (with a BSUID made for them) if unknown."""
        return self.find(phone) or self._create(portfolio, normalize_wa_id(phone), None, None)

    def upsert(
        self,
        portfolio: str,
        *,
        phone: str | None = None,
        user_id: str | None = None,
        parent_user_id: str | None = None,
        username: str | None = None,
        country: str | None = None,
    ) -> Customer:
        """Add a customer, or complete the one `phone` or `user_id` names. `username` None keeps
        it, "" drops it. Nothing changes when any identifier is someone else's, or when the
        change is one Meta makes only with a number change (a phone, a BSUID)."""
        named = [self.find(given) for given in (phone, user_id) if given is not None]
        found = [c for c in named if c is not None]
        customer = found[0] if found else None
        problem = self._conflict(customer, found, phone, user_id, parent_user_id, username)
        if problem is not None:
            raise CustomerConflict(problem)
        if customer is None:
            customer = self._create(portfolio, phone, user_id, country)
        elif phone is not None and customer.phone is None:
            customer.phone = phone
            self.phones[phone] = customer.key
        if parent_user_id is not None and customer.parent_user_id is None:
            customer.parent_user_id = parent_user_id
            self.owners[parent_user_id] = (customer.key, LINKED)
        if username is not None:
            if customer.username is not None:
                self.usernames.pop(customer.username.lower(), None)
            customer.username = username or None
            if username:
                self.usernames[username.lower()] = customer.key
        return customer

    def _conflict(
        self,
        customer: Customer | None,
        found: list[Customer],
        phone: str | None,
        user_id: str | None,
        parent_user_id: str | None,
        username: str | None,
    ) -> str | None:
        if any(c is not found[0] for c in found):
            return f"{phone} and {user_id} are two different customers'"
        for given in (user_id, parent_user_id):
            if given is not None and given in self.retired:
                return f"{given} was retired when its user changed number"
        if customer is not None:
            if user_id is not None and self.find(user_id) is not customer:
                return f"{customer.key} has another BSUID: a BSUID changes only by a number change"
            if phone is not None and customer.phone not in (None, phone):
                return f"{customer.key} has another phone: use a number change"
            if parent_user_id is not None and customer.parent_user_id not in (None, parent_user_id):
                return f"{customer.key} has another parent BSUID: it changes by a number change"
        key = customer.key if customer is not None else None
        owned = self.owners.get(parent_user_id) if parent_user_id else None
        if owned is not None and owned[0] != key:
            return f"{parent_user_id} is another customer's"
        holder = self.usernames.get(username.lower()) if username else None
        if holder is not None and holder != key:
            return f"username {username} is another customer's"
        return None

    def _create(
        self, portfolio: str, phone: str | None, user_id: str | None, country: str | None
    ) -> Customer:
        key = base = phone or user_id or "customer"
        n = 1
        while key in self.customers:  # a phone or BSUID someone else had before
            n += 1
            key = f"{base}#{n}"
        from_id = user_id.partition(".")[0] if user_id else None
        customer = Customer(key, country or from_id or country_of(phone or ""), phone=phone)
        self.customers[key] = customer
        if phone is not None:
            self.phones[phone] = key
        if user_id is not None:
            self._own(customer, user_id, portfolio)
        self.user_id(customer, portfolio)
        return customer

    def user_id(self, customer: Customer, portfolio: str) -> str:
        """The customer's BSUID in `portfolio`, made on first use."""
        if portfolio not in customer.user_ids:
            self._own(customer, self._made(customer, portfolio, parent=False), portfolio)
        return customer.user_ids[portfolio]

    def change_number(self, customer: Customer, phone: str | None) -> None:
        """The customer moves to a new phone (or one the sandbox does not know): every BSUID and
        the parent BSUID are retired and made anew, in the same portfolios."""
        if phone is not None and self.find(phone) not in (None, customer):
            raise CustomerConflict(f"{phone} is another customer's")
        if customer.phone is not None:
            self.phones.pop(customer.phone, None)
        customer.phone = phone
        if phone is not None:
            self.phones[phone] = customer.key
        customer.numbers_changed += 1
        old = dict(customer.user_ids)
        customer.user_ids.clear()
        for portfolio, user_id in old.items():
            self._retire(user_id)
            self.user_id(customer, portfolio)
        if customer.parent_user_id is not None:
            self._retire(customer.parent_user_id)
            parent = self._made(customer, LINKED, parent=True)
            customer.parent_user_id = parent
            self.owners[parent] = (customer.key, LINKED)

    def _own(self, customer: Customer, user_id: str, portfolio: str) -> None:
        customer.user_ids[portfolio] = user_id
        self.owners[user_id] = (customer.key, portfolio)

    def _retire(self, user_id: str) -> None:
        self.owners.pop(user_id, None)
        self.retired.add(user_id)

    def _made(self, customer: Customer, scope: str, *, parent: bool) -> str:
        """A BSUID from the scope and the customer's current phone; salted past any taken."""
        basis = f"{customer.phone or customer.key}#{customer.numbers_changed}"
        salt = 0
        while True:
            made = generate_bsuid(customer.country, scope, basis, salt, parent=parent)
            if made not in self.owners and made not in self.retired:
                return made
            salt += 1
