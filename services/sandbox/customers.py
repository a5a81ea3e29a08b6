"""The customers the sandbox plays: they write (any type, at any past moment), read, and stop
or resume marketing; each action is the webhook Meta would post."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from services.sandbox.errors import InvalidCustomerMessage
from services.sandbox.ids import Ids
from services.sandbox.rules import inbound, webhook_envelopes
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

    def emit_status(self, wamid: str, state: str) -> None: ...


class Customers:
    """The customers writing to one business."""

    def __init__(self, business: Business) -> None:
        self._business = business

    def sends(self, request: Mapping[str, Any]) -> str:
        """A customer writes (any type, optionally at a past `timestamp`); ingest gets the webhook.

        Raises `InvalidCustomerMessage` for a request no customer could send."""
        now = self._business.clock()
        phone_number_id = str(request.get("phone_number_id") or "")
        wa_id = normalize_wa_id(str(request.get("from") or ""))
        if not phone_number_id or not wa_id:
            raise InvalidCustomerMessage("phone_number_id and from are required")
        at = inbound.timestamp(request.get("timestamp"), now)
        wamid = self._business.ids.wamid()
        display = self._business.settings.display_phone_number
        item = inbound.message_item(request, wamid, at, display, wa_id)
        if inbound.opens_window(item["type"]):
            self._business.world.customer_wrote(phone_number_id, wa_id, at)
        if "referral" in item:
            self._business.world.referrals[(phone_number_id, wa_id)] = at
        self._business.world.received.append(
            ReceivedMessage(wamid, phone_number_id, wa_id, item["type"], at)
        )
        self._business.outbox.enqueue(
            webhook_envelopes.inbound(
                waba_id=self._business.settings.waba_id,
                phone_number_id=phone_number_id,
                display=display,
                wa_id=wa_id,
                name=str(request.get("name") or "Sandbox Customer"),
                message=item,
            )
        )
        return wamid

    def read(self, wamid: str) -> bool:
        """The customer opens a delivered message: a `read` status follows (never for reactions)."""
        msg = self._business.world.sent.get(wamid)
        if msg is None or msg.error is not None or msg.kind == "reaction":
            return False
        self._business.emit_status(wamid, "read")
        return True

    def preference(self, phone_number_id: str, wa_id: str, value: str) -> None:
        """The customer stops or resumes marketing messages from this business."""
        pair = (phone_number_id, normalize_wa_id(wa_id))
        if value == "stop":
            self._business.world.marketing_stopped.add(pair)
        else:
            self._business.world.marketing_stopped.discard(pair)
        self._business.outbox.enqueue(
            webhook_envelopes.user_preference(
                waba_id=self._business.settings.waba_id,
                phone_number_id=phone_number_id,
                display=self._business.settings.display_phone_number,
                wa_id=pair[1],
                value=value,
                at=self._business.clock(),
            )
        )
