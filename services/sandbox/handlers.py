"""The sandbox's I/O shell for messages: checks each send against the rules, records what
happened and schedules the webhooks Meta would send; its `Customers` play the other side."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.sandbox.customers import Customers
from services.sandbox.directory import Customer
from services.sandbox.faults import FaultBoard
from services.sandbox.ids import Ids
from services.sandbox.media import MediaLibrary, MediaState
from services.sandbox.metrics import SandboxMetrics
from services.sandbox.rules import (
    addressing,
    codes,
    limits,
    marketing_api,
    marketing_limits,
    message_objects,
    pricing,
    receipts,
    sends,
    template_sends,
    webhook_envelopes,
)
from services.sandbox.rules.identity import DEFAULT_NAME, Identity
from services.sandbox.rules.template_model import Template
from services.sandbox.settings import SandboxSettings
from services.sandbox.signals import Signals
from services.sandbox.tasks import Tasks
from services.sandbox.webhook_sender import Outbox
from services.sandbox.world import ReadReceipt, SentMessage, World
from shared import logs
from shared.events.common import MetaError
from shared.events.keys import normalize_wa_id
from shared.events.message_types import FREE_FORM
from shared.metrics import new_registry
from shared.settings import GRAPH_API_VERSION

log = logs.get(__name__)


@dataclass(frozen=True)
class SendResult:
    status: int
    body: dict[str, Any]


class Sandbox:
    def __init__(
        self,
        settings: SandboxSettings,
        world: World,
        outbox: Outbox,
        clock: Callable[[], datetime],
        ids: Ids | None = None,
        tasks: Tasks | None = None,
        board: FaultBoard | None = None,
        metrics: SandboxMetrics | None = None,
        media: MediaState | None = None,
    ) -> None:
        self.settings = settings
        self.world = world
        self.outbox = outbox
        self.clock = clock
        self.ids = ids or Ids(settings.seed)
        self.tasks = tasks or Tasks()
        self.board = board or FaultBoard(settings.faults, settings.seed)
        self.metrics = metrics or SandboxMetrics.create(new_registry())
        self.media = MediaLibrary(clock, media)
        self.customers = Customers(self)
        self.signals = Signals(self)

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        token = header.removeprefix("Bearer ").strip()
        return any(
            secrets.compare_digest(token, t.get_secret_value()) for t in self.settings.access_tokens
        )

    def refuse(self, error: MetaError, status: int = 400) -> SendResult:
        return SendResult(status, webhook_envelopes.error_body(error, self.ids.trace_id()))

    def _violate(
        self, now: datetime, pair: tuple[str, str], error: MetaError, wamid: str | None = None
    ) -> None:
        self.world.violate(now, pair[0], pair[1], error, wamid)
        self.metrics.violations.labels(str(error.code)).inc()
        log.info("rule violated", code=error.code, wamid=wamid, phone_number_id=pair[0])

    def send_marketing(
        self, phone_number_id: str, payload: dict[str, Any], version: str = GRAPH_API_VERSION
    ) -> SendResult:
        """`POST /{version}/{phone_number_id}/marketing_messages`: MARKETING templates only."""
        obj = payload.get("template")
        found = (
            template_sends.find(obj, self.world.live_templates()) if isinstance(obj, dict) else None
        )
        onboarded = self.settings.marketing_messages_onboarded
        routed = marketing_api.route(payload, found.category if found else None, onboarded)
        if isinstance(routed, MetaError):
            self.metrics.sends.labels("refused").inc()
            return self.refuse(routed)
        return self.send(phone_number_id, routed.payload, version, lite=routed.lite)

    def send(
        self,
        phone_number_id: str,
        payload: dict[str, Any],
        version: str = GRAPH_API_VERSION,
        lite: bool | None = None,
    ) -> SendResult:
        """`POST /{version}/{phone_number_id}/messages` (`lite`: came to the Marketing Messages
        API, which delivered it (True) or fell back to the Cloud API (False))."""
        now = self.clock()
        if payload.get("status") == "read":
            return self._mark_read(phone_number_id, payload, now)
        kind = str(payload.get("type", "text"))
        address = self._addressed(kind, payload)
        if isinstance(address, MetaError):  # a malformed request, not a broken rule
            self.metrics.sends.labels("refused").inc()
            return self.refuse(address)
        pair = (phone_number_id, address.value)
        reached = self.world.addressee(address, phone_number_id, self.settings.portfolio_id)
        if isinstance(reached, MetaError):
            return self._refuse_broken(now, pair, reached)
        template = None
        error = None
        if kind == "template":
            error = template_sends.check_template(payload["template"], self.world.live_templates())
            template = template_sends.find(payload["template"], self.world.live_templates())
            error = error or addressing.check_bsuid_allowed(address, template)
        error = error or self._take_rate(phone_number_id, reached.key, now)
        if error is not None:
            return self._refuse_broken(now, pair, error)
        stopped = self.world.next_code(codes.SENDER_CODES)
        if stopped is not None:  # Meta stopped the sender (asked for): refused, no violation
            self.metrics.sends.labels("refused").inc()
            return self.refuse(stopped, 403 if stopped.code == codes.policy_block.code else 400)
        return self._accept(
            phone_number_id, address, reached, payload, template, version, now, lite
        )

    def _addressed(self, kind: str, payload: dict[str, Any]) -> addressing.Address | MetaError:
        """Whom a well-formed request addresses, or why it is malformed."""
        error = sends.check_envelope(payload) or message_objects.check_object(kind, payload)
        if error is not None:
            return error
        address = addressing.address_of(payload)
        if address.by == "phone":
            business = normalize_wa_id(self.settings.display_phone_number)
            error = sends.check_recipient(address.value, business)
        return error or address

    def _refuse_broken(self, now: datetime, pair: tuple[str, str], error: MetaError) -> SendResult:
        """Refuse a send that broke one of Meta's rules: counted as a violation."""
        self.metrics.sends.labels("refused").inc()
        self._violate(now, pair, error)
        return self.refuse(error)

    def _accept(
        self,
        phone_number_id: str,
        address: addressing.Address,
        customer: Customer,
        payload: dict[str, Any],
        template: Template | None,
        version: str,
        now: datetime,
        lite: bool | None = None,
    ) -> SendResult:
        """Record an accepted send and schedule its status webhooks (or its later failure)."""
        kind = str(payload.get("type", "text"))
        category = template.category if template is not None else None
        key = customer.key
        late = self._delivery_error(kind, category, phone_number_id, key, now)
        us = marketing_limits.us_customer(customer.phone, customer.country)
        if late is None and category == "MARKETING" and us:
            late = codes.not_delivered()  # Meta delivers no marketing to the US
        asked = self.world.next_code(codes.LATE_CODES) if late is None else None
        injected = late is None and asked is None and self.board.refuses_window(kind in FREE_FORM)
        if injected:
            late = codes.re_engagement()
            self.metrics.faults.labels("reengage").inc()
        late = late or asked
        injected = injected or asked is not None  # asked for: Meta's answer, not a violation
        wamid = self.ids.wamid()
        callback = payload.get("biz_opaque_callback_data")
        cost, conversation = self._billing(version, category, phone_number_id, key, now, lite)
        self.world.sent[wamid] = SentMessage(
            wamid,
            phone_number_id,
            address.value,
            kind,
            now,
            callback if isinstance(callback, str) else None,
            template=template.name if template else None,
            category=category,
            error=late.code if late else None,
            pricing=cost,
            conversation=conversation,
            held_template_id=template.id if template is not None and template.paced else None,
            customer=key,
            by_phone=address.by == "phone",
            message=payload.get(kind) if isinstance(payload.get(kind), dict) else None,
            endpoint="messages" if lite is None else "marketing_messages",
        )
        self.metrics.sends.labels("accepted").inc()
        if kind != "template":  # a service message from the passive app takes the thread (§9.6)
            self.world.agent_threads.discard((phone_number_id, key))
        portfolio = self.world.portfolio_of(phone_number_id, self.settings.portfolio_id)
        if late is None and address.by == "phone":
            self.world.messaged_phone(portfolio, customer, now)
        if late is not None and late.code != codes.UNDELIVERABLE and not injected:
            self._violate(now, (phone_number_id, address.value), late, wamid)
        self.tasks.spawn(self._lifecycle(wamid, late))
        message: dict[str, str] = {"id": wamid}
        if kind == "template":
            held = template is not None and template.paced
            message["message_status"] = "held_for_quality_assessment" if held else "accepted"
        user_id = self.world.directory.user_id(customer, portfolio)
        contact = addressing.response_contact(address, user_id)
        return SendResult(
            200, {"messaging_product": "whatsapp", "contacts": [contact], "messages": [message]}
        )

    def _take_rate(self, phone_number_id: str, customer: str, now: datetime) -> MetaError | None:
        world, s = self.world, self.settings
        pair = (phone_number_id, customer)
        mps = world.throughput.get(phone_number_id, s.throughput_mps)
        number, pair_bucket, error = limits.check_rates(
            world.number_buckets.get(phone_number_id),
            world.pair_buckets.get(pair),
            limits.Limits(mps, s.pair_burst, s.pair_interval_s),
            now,
        )
        if number is not None:
            world.number_buckets[phone_number_id] = number
        if pair_bucket is not None:
            world.pair_buckets[pair] = pair_bucket
        return error

    def _delivery_error(
        self, kind: str, category: str | None, phone_number_id: str, customer: str, now: datetime
    ) -> MetaError | None:
        """Errors Meta accepts the send for and reports later in a `failed` status (`customer`:
        the key of the customer, whichever identifier the send used)."""
        late = sends.check_window(kind, self.world.last_message_at(phone_number_id, customer), now)
        stopped = (phone_number_id, customer) in self.world.marketing_stopped
        if late is None and category == "MARKETING" and stopped:
            return codes.marketing_stopped()
        if late is None and customer in self.world.unreachable:
            return codes.undeliverable()
        return late

    def _billing(
        self,
        version: str,
        category: str | None,
        phone_number_id: str,
        customer: str,
        now: datetime,
        lite: bool | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        pair = (phone_number_id, customer)
        csw = sends.window_open(self.world.last_message_at(*pair), now)
        fep, started = pricing.fep_open(
            self.world.referrals.get(pair), self.world.fep_started.get(pair), now
        )
        if started is not None:
            self.world.fep_started[pair] = started
        charged = self.settings.service_charged
        cost = pricing.billing(category, csw, fep, lite=bool(lite), service_charged=charged)
        if not pricing.reports_conversation(version, fep):
            return cost, None
        origin = str(cost["category"]).replace("-", "_")
        if fep and started is not None:  # one conversation id per free entry point window
            window = f"{phone_number_id}:{customer}:{started.isoformat()}"
            conversation_id = hashlib.sha256(window.encode()).hexdigest()[:32]
            return cost, pricing.conversation(conversation_id, origin, started + pricing.FEP_WINDOW)
        return cost, pricing.conversation(self.ids.trace_id().lower(), origin, None)

    def _mark_read(
        self, phone_number_id: str, payload: Mapping[str, Any], now: datetime
    ) -> SendResult:
        message_id = payload.get("message_id")
        found = next(
            (
                m
                for m in self.world.received
                if m.wamid == message_id and m.phone_number_id == phone_number_id
            ),
            None,
        )
        customer = found.customer or found.sender if found is not None else ""
        last = self.world.last_message_at(phone_number_id, customer)
        error = receipts.check_receipt(payload, found is not None, last, now)
        if error is not None:
            self.metrics.sends.labels("refused").inc()
            if error.code == codes.re_engagement.code:
                self._violate(now, (phone_number_id, customer), error)
            return self.refuse(error)
        typing = payload.get("typing_indicator") is not None
        self.world.receipts.append(ReadReceipt(str(message_id), phone_number_id, typing, now))
        return SendResult(200, {"success": True})

    async def _lifecycle(self, wamid: str, error: MetaError | None) -> None:
        msg = self.world.sent.get(wamid)
        if msg is None:
            return
        if error is None and msg.held_template_id is not None:
            await asyncio.sleep(self.settings.held_s)
            error = self._release(msg.held_template_id)
            if error is not None and wamid in self.world.sent:
                self.world.sent[wamid] = dataclasses.replace(msg, error=error.code)
        if error is not None:
            states = ["failed"]
        elif msg.kind == "reaction":
            states = ["sent"]
        else:
            states = ["sent", "delivered"]
        for state in states:
            await asyncio.sleep(self.settings.status_delay_s)
            self.emit_status(wamid, state, error)
        if error is None and msg.kind != "reaction" and self.settings.read_after_s is not None:
            await asyncio.sleep(self.settings.read_after_s)
            self.emit_status(wamid, "read")

    def _release(self, template_id: str) -> MetaError | None:
        """A held message is dropped (132015) if its template was paused or turned RED meanwhile."""
        template = self.world.templates.get(template_id)
        if template is None or template.status != "APPROVED" or template.quality == "RED":
            return codes.template_paused(template.name if template else template_id)
        return None

    def emit_status(self, wamid: str, state: str, error: MetaError | None = None) -> None:
        msg = self.world.sent.get(wamid)
        if msg is None:  # forgotten by a reset meanwhile
            return
        priced = state in ("sent", "delivered")
        conversation = msg.conversation if priced else None
        if conversation is not None and state != "sent":
            conversation = {k: v for k, v in conversation.items() if k != "expiration_timestamp"}
        now = self.clock()
        customer = self.world.directory.customers.get(msg.customer or "")
        recipient: str | Identity = msg.recipient
        if customer is not None:
            recipient = self.world.identity_of(
                customer, msg.phone_number_id, self.settings.portfolio_id, now
            )
            if msg.by_phone:  # what the business addressed is no secret to it
                recipient = dataclasses.replace(recipient, wa_id=msg.recipient)
        self.outbox.enqueue(
            webhook_envelopes.status(
                waba_id=self.settings.waba_id,
                phone_number_id=msg.phone_number_id,
                display=self.settings.display_phone_number,
                wamid=wamid,
                state=state,
                at=now,
                recipient=recipient,
                callback=msg.callback,
                pricing=msg.pricing if priced else None,
                conversation=conversation,
                error=error,
                name=customer.name if customer is not None else DEFAULT_NAME,
            )
        )

    def customer_message(
        self, phone_number_id: str, wa_id: str, text: str, name: str = "Sandbox Customer"
    ) -> str:
        """A customer writes a text now."""
        request = {"phone_number_id": phone_number_id, "from": wa_id, "text": text, "name": name}
        return self.customers.sends(request)

    def reset(self, seed: int | None) -> None:
        """Forget everything; ids and faults restart from `seed`."""
        self.world.reset()
        self.media.reset()
        self.ids.reseed(seed)
        self.board.configure(self.board.faults, seed)

    async def close(self) -> None:
        await self.tasks.close()
