"""The conversation signals the sandbox plays beside messages (rules §9.6): a customer calls the
business or answers its call, the business replies from the WhatsApp Business app (or Meta's
agent replies), and Meta's agent takes, passes or releases a customer's thread. Each is the
webhook Meta would post, and changes the sandbox's world as Meta's would change."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from services.sandbox.customers import Customers
from services.sandbox.directory import Customer
from services.sandbox.errors import InvalidCustomer
from services.sandbox.ids import Ids
from services.sandbox.rules import limits, signal_envelopes
from services.sandbox.rules.identity import Identity
from services.sandbox.settings import SandboxSettings
from services.sandbox.webhook_sender import Outbox
from services.sandbox.world import World

DIRECTIONS = ("USER_INITIATED", "BUSINESS_INITIATED")
ECHOERS = ("business_app", "agent")
THREAD_ACTIONS = ("take", "pass", "release")
TEXT_MAX = 4096


class Business(Protocol):
    settings: SandboxSettings
    world: World
    outbox: Outbox
    clock: Any
    ids: Ids
    customers: Customers


class Signals:
    def __init__(self, business: Business) -> None:
        self._business = business

    def call(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/calls`: the customer (`from` or `from_user_id`) calls the business
        (`direction` USER_INITIATED, `answered` or not) or answers its call (BUSINESS_INITIATED,
        `accepted` or not); a customer's call and an accepted one open the window."""
        direction = request.get("direction", "USER_INITIATED")
        flag = "accepted" if direction == "BUSINESS_INITIATED" else "answered"
        yes = request.get(flag, True)
        if direction not in DIRECTIONS or not isinstance(yes, bool):
            raise InvalidCustomer(f"direction ({' or '.join(DIRECTIONS)}) and {flag} (true|false)")
        number, customer, who, now = self._party(request, "from", "from_user_id")
        call_id = "wacid." + self._business.ids.trace_id()
        business = self._business.settings.display_phone_number
        items: dict[str, list[dict[str, Any]]] = {}
        if direction == "BUSINESS_INITIATED":
            final = "ACCEPTED" if yes else "REJECTED"
            progress = [
                signal_envelopes.call_status(call_id, who, s, now) for s in ("RINGING", final)
            ]
            self._post(number, who, customer, statuses=progress)
        if direction == "USER_INITIATED" or yes:
            outcome = "COMPLETED" if yes else "FAILED"
            items["calls"] = [
                signal_envelopes.call_item(call_id, who, business, "connect", direction, now),
                signal_envelopes.call_item(
                    call_id, who, business, "terminate", direction, now, status=outcome
                ),
            ]
            self._post(number, who, customer, **items)
        opens = direction == "USER_INITIATED" or yes
        if opens:
            self._business.world.customer_wrote(number, customer.key, now)
        return {"call_id": call_id, "direction": direction, "opens_window": opens}

    def echo(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/echoes`: the business's WhatsApp Business app (`by: business_app`)
        or Meta's agent (`by: agent`) sends `text` to the customer (`to` or `to_user_id`): it
        uses the pair rate and the throughput as any send, and never opens a window."""
        by = request.get("by", "business_app")
        text = request.get("text", "Sent from the WhatsApp Business app")
        if by not in ECHOERS or not isinstance(text, str) or not 0 < len(text) <= TEXT_MAX:
            raise InvalidCustomer(f"by ({' or '.join(ECHOERS)}) and a text of 1 to 4096 characters")
        number, customer, who, now = self._party(request, "to", "to_user_id")
        world, s = self._business.world, self._business.settings
        mps = world.throughput.get(number, s.throughput_mps)
        pair = (number, customer.key)
        world.number_buckets[number] = limits.spend(world.number_buckets.get(number), mps, mps, now)
        world.pair_buckets[pair] = limits.spend(
            world.pair_buckets.get(pair), s.pair_burst, 1.0 / s.pair_interval_s, now
        )
        wamid = self._business.ids.wamid()
        self._business.outbox.enqueue(
            signal_envelopes.echo(
                s.waba_id,
                number,
                s.display_phone_number,
                who,
                wamid,
                text,
                now,
                by_agent=by == "agent",
            )
        )
        return {"id": wamid, "by": by}

    def thread(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """`POST /_sandbox/threads`: Meta's agent `take`s the customer's thread (this app gets
        `control_taken`), `pass`es it to this app (`control_passed`) or `release`s it (no
        notification); while the agent holds it, the customer's messages go out on `standby`."""
        action = request.get("action")
        metadata = request.get("metadata")
        if action not in THREAD_ACTIONS or not isinstance(metadata, str | None):
            raise InvalidCustomer(f"action ({'|'.join(THREAD_ACTIONS)}) and metadata (a string)")
        number, customer, who, now = self._party(request, "wa_id", "user_id")
        threads, pair = self._business.world.agent_threads, (number, customer.key)
        kind = {"take": "control_taken", "pass": "control_passed"}.get(str(action))
        if action == "take":
            threads.add(pair)
        else:
            threads.discard(pair)
        if kind is not None:
            s = self._business.settings
            self._business.outbox.enqueue(
                signal_envelopes.handover(
                    s.waba_id, number, s.display_phone_number, who, kind, now, metadata
                )
            )
        return {"held_by": "agent" if pair in threads else "business", "notified": kind}

    def _party(
        self, request: Mapping[str, Any], phone: str, bsuid: str
    ) -> tuple[str, Customer, Identity, datetime]:
        """The business number and the customer a request names, as that number sees them."""
        number = request.get("phone_number_id")
        if (
            not isinstance(number, str)
            or not number
            or not (request.get(phone) or request.get(bsuid))
        ):
            raise InvalidCustomer(f"phone_number_id and {phone} (a phone) or {bsuid} are required")
        customer = self._business.customers.find(request.get(phone), request.get(bsuid))
        now = self._business.clock()
        home = self._business.settings.portfolio_id
        return number, customer, self._business.world.identity_of(customer, number, home, now), now

    def _post(
        self, number: str, who: Identity, customer: Customer, **items: list[dict[str, Any]]
    ) -> None:
        s = self._business.settings
        self._business.outbox.enqueue(
            signal_envelopes.calls(
                s.waba_id, number, s.display_phone_number, who, customer.name, **items
            )
        )
