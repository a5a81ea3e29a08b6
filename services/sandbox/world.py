"""The sandbox's memory of the world: customers and the portfolios of the business's numbers,
windows, sent and received messages, templates, rate buckets, marketing preferences,
violations. In memory; `reset` forgets everything. Windows, rates and preferences are kept per
customer `key`, so a customer known by phone and BSUID has one of each."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from services.sandbox.directory import Customer, Directory
from services.sandbox.rules import addressing, identity
from services.sandbox.rules.addressing import Address
from services.sandbox.rules.codes import Code
from services.sandbox.rules.identity import Identity
from services.sandbox.rules.limits import Bucket
from services.sandbox.rules.template_model import Template
from shared.events.common import MetaError

Pair = tuple[str, str]


@dataclass(frozen=True)
class Violation:
    """A request that broke one of Meta's rules; tests count these."""

    at: datetime
    phone_number_id: str
    recipient: str
    code: int
    details: str
    wamid: str | None = None


@dataclass(frozen=True)
class SentMessage:
    wamid: str
    phone_number_id: str
    recipient: str
    kind: str
    accepted_at: datetime
    callback: str | None
    template: str | None = None
    category: str | None = None
    error: int | None = None
    pricing: dict[str, Any] | None = None
    conversation: dict[str, Any] | None = None
    held_template_id: str | None = None
    customer: str | None = None
    """The key of the customer it went to (`recipient` is the phone or BSUID as addressed)."""
    by_phone: bool = True
    message: dict[str, Any] | None = None
    """The message object as received (`template`, `text`...), what the customer gets."""
    endpoint: str = "messages"
    """The endpoint that took it: `messages` or `marketing_messages`."""


@dataclass(frozen=True)
class ReceivedMessage:
    wamid: str
    phone_number_id: str
    sender: str
    kind: str
    at: datetime
    customer: str | None = None


@dataclass(frozen=True)
class ReadReceipt:
    """The business marked a customer's message read (with a typing indicator, if shown)."""

    wamid: str
    phone_number_id: str
    typing_indicator: bool
    at: datetime


def as_json(record: Violation | SentMessage | ReceivedMessage | ReadReceipt) -> dict[str, Any]:
    """A record as the control API shows it: its fields, with times in ISO 8601."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in asdict(record).items()}


@dataclass
class World:
    last_customer_message: dict[Pair, datetime] = field(default_factory=dict)
    referrals: dict[Pair, datetime] = field(default_factory=dict)
    fep_started: dict[Pair, datetime] = field(default_factory=dict)
    sent: dict[str, SentMessage] = field(default_factory=dict)
    received: list[ReceivedMessage] = field(default_factory=list)
    receipts: list[ReadReceipt] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    templates: dict[str, Template] = field(default_factory=dict)
    template_created: list[datetime] = field(default_factory=list)
    marketing_stopped: set[Pair] = field(default_factory=set)
    unreachable: set[str] = field(default_factory=set)
    next_codes: list[int] = field(default_factory=list)  # Meta's answers asked for, in order
    throughput: dict[str, float] = field(default_factory=dict)
    number_buckets: dict[str, Bucket] = field(default_factory=dict)
    pair_buckets: dict[Pair, Bucket] = field(default_factory=dict)
    directory: Directory = field(default_factory=Directory)
    number_portfolios: dict[str, str] = field(default_factory=dict)
    """Business numbers of portfolios other than the sandbox's own (`SANDBOX_PORTFOLIO_ID`)."""
    linked_portfolios: set[str] = field(default_factory=set)
    """Portfolios Meta linked with the sandbox's own: their numbers take parent BSUIDs."""
    phone_messaged: dict[Pair, tuple[str, datetime]] = field(default_factory=dict)
    """(portfolio, customer key) -> the phone the business last messaged, and when."""
    agent_threads: set[Pair] = field(default_factory=set)
    """(business number, customer key) whose thread Meta's Business Agent holds: the
    customer's messages go out on `standby`, and a service message of the app takes it back."""

    def portfolio_of(self, phone_number_id: str, home: str) -> str:
        return self.number_portfolios.get(phone_number_id, home)

    def linked(self, portfolio: str, home: str) -> bool:
        """Whether a portfolio is in the sandbox's linked set (its own always is)."""
        return portfolio == home or portfolio in self.linked_portfolios

    def messaged_phone(self, portfolio: str, customer: Customer, at: datetime) -> None:
        """The business delivered a message to the customer's phone: rule (a) of §9.1."""
        if customer.phone is not None:
            self.phone_messaged[(portfolio, customer.key)] = (customer.phone, at)

    def addressee(self, address: Address, phone_number_id: str, home: str) -> Customer | MetaError:
        """The customer a send reaches, or why a number may not address that BSUID. A phone
        always reaches someone: a customer the sandbox has not met yet is made on the spot."""
        portfolio = self.portfolio_of(phone_number_id, home)
        if address.by == "phone":
            return self.directory.for_phone(address.value, portfolio)
        owned = self.directory.owner(address.value)
        if owned is None:
            retired = address.value in self.directory.retired
            return addressing.unknown_recipient(address.value, retired=retired)
        customer, owner = owned
        linked = self.linked(portfolio, home)
        return addressing.check_scope(address.value, owner, portfolio, linked) or customer

    def identity_of(
        self, customer: Customer, phone_number_id: str, home: str, now: datetime
    ) -> Identity:
        """The customer as the webhooks of one business number show them at `now`."""
        portfolio = self.portfolio_of(phone_number_id, home)
        phone, messaged_at = self.phone_messaged.get((portfolio, customer.key), (None, None))
        shared = identity.phone_shared(
            customer.phone,
            customer.phone_withheld,
            messaged_at if phone == customer.phone else None,
            now,
        )
        return Identity(
            wa_id=customer.phone if shared else None,
            user_id=self.directory.user_id(customer, portfolio),
            parent_user_id=customer.parent_user_id if self.linked(portfolio, home) else None,
            username=customer.username,
        )

    def customer_wrote(self, phone_number_id: str, customer: str, at: datetime) -> None:
        key = (phone_number_id, customer)
        previous = self.last_customer_message.get(key)
        if previous is None or at > previous:
            self.last_customer_message[key] = at

    def last_message_at(self, phone_number_id: str, customer: str) -> datetime | None:
        return self.last_customer_message.get((phone_number_id, customer))

    def violate(
        self,
        at: datetime,
        phone_number_id: str,
        recipient: str,
        error: MetaError,
        wamid: str | None = None,
    ) -> None:
        self.violations.append(
            Violation(at, phone_number_id, recipient, error.code, error.details or "", wamid)
        )

    def live_templates(self) -> dict[tuple[str, str], Template]:
        """Templates a send can name, by (name, language)."""
        return {
            (t.name, t.language): t
            for t in self.templates.values()
            if t.status not in ("DELETED", "PENDING_DELETION")
        }

    def template_named(self, name: str, language: str | None = None) -> list[Template]:
        return [
            t
            for t in self.templates.values()
            if t.name == name
            and (language is None or t.language == language)
            and t.status != "DELETED"
        ]

    def traffic(self, phone_number_id: str | None) -> dict[str, list[dict[str, Any]]]:
        """What each number sent and received (all numbers when `phone_number_id` is None)."""
        sent = [m for m in self.sent.values() if phone_number_id in (None, m.phone_number_id)]
        received = [m for m in self.received if phone_number_id in (None, m.phone_number_id)]
        read = [r for r in self.receipts if phone_number_id in (None, r.phone_number_id)]
        return {
            "sent": [as_json(m) for m in sent],
            "received": [as_json(m) for m in received],
            "read_receipts": [as_json(r) for r in read],
        }

    def violations_json(self, code: str | None) -> list[dict[str, Any]]:
        """The violations (of one Meta code when `code` is given), as the control API lists them."""
        return [as_json(v) for v in self.violations if code is None or str(v.code) == code]

    def next_code(self, table: Mapping[int, Code]) -> MetaError | None:
        """The next answer asked for (`/_sandbox/sender-codes`) when it is one of `table`'s."""
        if self.next_codes and self.next_codes[0] in table:
            return table[self.next_codes.pop(0)]()
        return None

    def reset(self) -> None:
        fresh = World()
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(fresh, name))
