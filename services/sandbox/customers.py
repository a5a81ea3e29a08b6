"""The customers the sandbox plays: they are added with the identifiers Meta gives them (phone,
BSUID, parent BSUID, username, a withheld phone), write (any type, at any past moment), read,
stop or resume marketing and change number; each action is the webhook Meta would post."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from services.sandbox import customer_media
from services.sandbox.directory import Customer
from services.sandbox.errors import InvalidCustomer, InvalidCustomerMessage, UnknownCustomer
from services.sandbox.ids import Ids
from services.sandbox.media import MediaLibrary
from services.sandbox.rules import identity, inbound, webhook_envelopes
from services.sandbox.rules.identity import Identity
from services.sandbox.settings import SandboxSettings
from services.sandbox.webhook_sender import Outbox
from services.sandbox.world import ReceivedMessage, World
from shared.events.keys import normalize_wa_id


class Business(Protocol):
    """What the customers act on: the business's settings, the world, the clock and ids, and
    the outbox its webhooks go out by (the sandbox itself)."""

    settings: SandboxSettings
    world: World
    outbox: Outbox
    clock: Callable[[], datetime]
    ids: Ids
    media: MediaLibrary

    def emit_status(self, wamid: str, state: str) -> None: ...


class Customers:
    """The customers writing to one business."""

    def __init__(self, business: Business) -> None:
        self._business = business
        self._world = business.world
        self._home = business.settings.portfolio_id

    def find(self, phone: object, user_id: object, *, create: bool = True) -> Customer:
        """The customer a control request names by phone or by BSUID (or parent BSUID). Someone
        new writes from any phone; a BSUID must be one the sandbox gave or was given.

        Raises `InvalidCustomer` for a malformed identifier, `UnknownCustomer` for an unknown."""
        directory = self._world.directory
        if user_id:
            problem = identity.bsuid_problem(user_id, parent=True)
            if problem is not None:
                raise InvalidCustomer(f"user_id {problem}")
            customer = directory.find(str(user_id))
            if customer is None:
                raise UnknownCustomer(f"no customer has the BSUID {user_id}; add it first")
            if phone and directory.find(str(phone)) is not customer:
                raise InvalidCustomer("the phone and the BSUID are not the same customer's")
            return customer
        digits = normalize_wa_id(str(phone or ""))  # any phone writes, as it always could
        if not digits:
            raise InvalidCustomer("a phone (wa_id) or a BSUID (user_id) is required")
        found = directory.find(digits)
        if found is None and not create:
            raise UnknownCustomer(f"no customer has the phone {digits}")
        return found or directory.for_phone(digits, self._home)

    def add(self, request: Mapping[str, Any]) -> Customer:
        """Add a customer, or change one (`POST /_sandbox/customers`): any of `phone`, `user_id`
        (BSUID in the sandbox's portfolio), `parent_user_id`, `username` ("" or null drops it),
        `phone_withheld`, `name`, `country` (for a BSUID made without a phone)."""
        phone = phone_of(request.get("phone"), "phone")
        user_id = _checked(request.get("user_id"), "user_id", parent=False)
        parent = _checked(request.get("parent_user_id"), "parent_user_id", parent=True)
        username = _username(request) if "username" in request else None
        withheld = request.get("phone_withheld")
        if withheld is not None and not isinstance(withheld, bool):
            raise InvalidCustomer("phone_withheld must be true or false")
        country = request.get("country")
        if country is not None and not identity.COUNTRY.fullmatch(str(country)):
            raise InvalidCustomer("country must be an ISO 3166 alpha-2 code in capitals")
        named = [self._world.directory.find(i) for i in (phone, user_id) if i is not None]
        known = next((c for c in named if c is not None), None)
        if withheld is None:
            withheld = bool(known and known.phone_withheld)
        problem = identity.withholding_problem(
            phone or (known.phone if known else None),
            withheld,
            username if username is not None else (known.username if known else None),
        )
        if problem is not None:
            raise InvalidCustomer(problem)
        customer = self._world.directory.upsert(
            self._home,
            phone=phone,
            user_id=user_id,
            parent_user_id=parent,
            username=username,
            country=str(country) if country else (None if phone or user_id else "US"),
        )
        customer.phone_withheld = withheld
        if request.get("name"):
            customer.name = str(request["name"])
        return customer

    def describe(self, customer: Customer) -> dict[str, Any]:
        """The customer with its BSUID in every portfolio the business's numbers are in."""
        for portfolio in dict.fromkeys([self._home, *self._world.number_portfolios.values()]):
            self._world.directory.user_id(customer, portfolio)
        return customer.to_json()

    def sends(self, request: Mapping[str, Any]) -> str:
        """A customer writes (any type, optionally at a past `timestamp`); ingest gets the webhook.

        Raises `InvalidCustomerMessage` for a request no customer could send, `InvalidCustomer`
        or `UnknownCustomer` when it names no customer who could send it."""
        now = self._business.clock()
        phone_number_id = str(request.get("phone_number_id") or "")
        if not phone_number_id or not (request.get("from") or request.get("from_user_id")):
            raise InvalidCustomerMessage(
                "phone_number_id and from (a phone) or from_user_id (a BSUID) are required"
            )
        at = inbound.timestamp(request.get("timestamp"), now)
        display = self._business.settings.display_phone_number
        # the message is judged before anyone new is added or an id is drawn for it
        inbound.message_item(request, "", at, display, "")
        file = customer_media.file_in(request)
        customer = self.find(request.get("from"), request.get("from_user_id"))
        request = customer_media.with_file(self._business.media, request, file)
        wamid = self._business.ids.wamid()
        who = self._seen(customer, phone_number_id, now)
        item = inbound.message_item(request, wamid, at, display, who)
        if request.get("name"):  # the profile name as the customer shows it now
            customer.name = str(request["name"])
        pair = (phone_number_id, customer.key)
        if inbound.opens_window(item["type"]):
            self._world.customer_wrote(phone_number_id, customer.key, at)
        if "referral" in item:
            self._world.referrals[pair] = at
        self._received(wamid, phone_number_id, customer, item["type"], at)
        field = "standby" if pair in self._world.agent_threads else "messages"
        self._post(phone_number_id, who, customer.name, item, field)
        return wamid

    def read(self, wamid: str) -> bool:
        """The customer opens a delivered message: a `read` status follows (never for reactions)."""
        msg = self._world.sent.get(wamid)
        if msg is None or msg.error is not None or msg.kind == "reaction":
            return False
        self._business.emit_status(wamid, "read")
        return True

    def preference(self, phone_number_id: str, customer: Customer, value: str) -> None:
        """The customer stops or resumes marketing messages from this business."""
        pair = (phone_number_id, customer.key)
        if value == "stop":
            self._world.marketing_stopped.add(pair)
        else:
            self._world.marketing_stopped.discard(pair)
        now = self._business.clock()
        self._business.outbox.enqueue(
            webhook_envelopes.user_preference(
                waba_id=self._business.settings.waba_id,
                phone_number_id=phone_number_id,
                display=self._business.settings.display_phone_number,
                wa_id=self._seen(customer, phone_number_id, now),
                value=value,
                at=now,
            )
        )

    def change_number(
        self, customer: Customer, phone: str | None, numbers: list[str]
    ) -> list[dict[str, str]]:
        """The customer moves to `phone`: every BSUID is made anew, and each business number
        (`numbers`, else every number the customer exchanged messages with) gets the system
        message: `user_changed_number`, or `user_changed_user_id` when no phone may be shown."""
        if customer.phone is not None and phone is None:
            raise InvalidCustomer("the new phone number (to) is required")
        now = self._business.clock()
        numbers = numbers or self._talked_with(customer)
        before = {n: self._seen(customer, n, now) for n in numbers}
        self._world.directory.change_number(customer, phone)
        notified = []
        for number in numbers:
            wamid = self._business.ids.wamid()
            after = self._seen(customer, number, now)
            item = inbound.identity_change(before[number], after, customer.name, wamid, now)
            self._received(wamid, number, customer, "system", now)
            self._post(number, before[number], customer.name, item)
            notified.append(
                {"phone_number_id": number, "id": wamid, "type": item["system"]["type"]}
            )
        return notified

    def _seen(self, customer: Customer, phone_number_id: str, now: datetime) -> Identity:
        return self._world.identity_of(customer, phone_number_id, self._home, now)

    def _talked_with(self, customer: Customer) -> list[str]:
        """The business numbers that sent this customer a message or received one, in order."""
        sent = [m.phone_number_id for m in self._world.sent.values() if m.customer == customer.key]
        got = [m.phone_number_id for m in self._world.received if m.customer == customer.key]
        return list(dict.fromkeys(got + sent))

    def _received(
        self, wamid: str, phone_number_id: str, customer: Customer, kind: str, at: datetime
    ) -> None:
        sender = customer.phone or self._world.directory.user_id(customer, self._home)
        self._world.received.append(
            ReceivedMessage(wamid, phone_number_id, sender, kind, at, customer=customer.key)
        )

    def _post(
        self,
        phone_number_id: str,
        who: Identity,
        name: str,
        item: dict[str, Any],
        field: str = "messages",
    ) -> None:
        self._business.outbox.enqueue(
            webhook_envelopes.inbound(
                waba_id=self._business.settings.waba_id,
                phone_number_id=phone_number_id,
                display=self._business.settings.display_phone_number,
                wa_id=who,
                name=name,
                message=item,
                field=field,
            )
        )


def phone_of(raw: object, field: str) -> str | None:
    """A phone given in a control request, as digits (None when not given)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str | int) or isinstance(raw, bool):
        raise InvalidCustomer(f"{field} must be a phone number")
    digits = normalize_wa_id(str(raw))
    problem = identity.phone_problem(digits)
    if problem is not None:
        raise InvalidCustomer(f"{field} {problem}")
    return digits


def _checked(raw: object, field: str, *, parent: bool) -> str | None:
    if raw is None or raw == "":
        return None
    problem = identity.bsuid_problem(raw, parent=parent)
    if problem is not None:
        raise InvalidCustomer(f"{field} {problem}")
    return str(raw)


def _username(request: Mapping[str, Any]) -> str:
    """The `username` of a request ("" to drop it); a leading `@` is not part of it."""
    raw = request.get("username")
    if raw is None or raw == "":
        return ""
    if not isinstance(raw, str):
        raise InvalidCustomer("username must be a string")
    name = raw.removeprefix("@")
    problem = identity.username_problem(name)
    if problem is not None:
        raise InvalidCustomer(f"username {problem}")
    return name
