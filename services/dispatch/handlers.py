"""Dispatch's I/O shell: decisions -> ledger -> Cloud API -> delivery updates, and
status reports -> ledger -> delivery updates."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeAlias

import aiohttp
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry, Counter

from services.dispatch import outcomes, payloads
from services.dispatch.cloudapi import CloudApi
from services.dispatch.store import Ledger, LedgerRow
from shared import logs
from shared.errors import RetryableError
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryState, DeliveryUpdated
from shared.events.envelope import Event, deterministic_id
from shared.events.keys import conversation_key
from shared.events.webhooks import MessageStatusReported
from shared.messaging import Publisher
from shared.topics import DELIVERY

log = logs.get(__name__)
PRODUCER = "dispatch"
Record: TypeAlias = ConsumerRecord  # of bytes keys and values


class DispatchMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sends = Counter(
            "wagate_dispatch_sends_total",
            "Cloud API sends by outcome and code.",
            ["outcome", "code"],
            registry=registry,
        )
        self.updates = Counter(
            "wagate_dispatch_delivery_updates_total",
            "Delivery updates published by state.",
            ["state"],
            registry=registry,
        )


@dataclass
class Dispatcher:
    ledger: Ledger
    api: CloudApi
    publisher: Publisher
    metrics: DispatchMetrics
    clock: Callable[[], datetime]

    async def on_decision(self, decision: PolicyDecisionMade, _: Record) -> None:
        intent = decision.intent
        if decision.outcome != "approved":
            row, fresh = await self.ledger.claim(
                intent.intent_id, intent.phone_number_id, intent.to, intent.metadata, "rejected"
            )
            if fresh:
                await self._update(
                    decision, row, "rejected", reasons=decision.reasons, detail=decision.detail
                )
            return
        if outcomes.approval_expired(decision.valid_until, self.clock()):
            row, fresh = await self.ledger.claim(
                intent.intent_id, intent.phone_number_id, intent.to, intent.metadata, "expired"
            )
            if fresh:
                await self._update(
                    decision,
                    row,
                    "expired",
                    reasons=["APPROVAL_EXPIRED"],
                    detail="the approval's valid_until passed before sending",
                )
            return
        row, fresh = await self.ledger.claim(
            intent.intent_id, intent.phone_number_id, intent.to, intent.metadata, "sending"
        )
        if not fresh:
            log.info(
                "intent already handled, not sending again",
                intent_id=intent.intent_id,
                state=row.state,
            )
            return
        await self._send(decision, row)

    async def _send(self, decision: PolicyDecisionMade, row: LedgerRow) -> None:
        intent = decision.intent
        try:
            result = await self.api.send(intent.phone_number_id, payloads.build(intent))
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have reached Meta: never resend blindly; statuses settle it.
            await self.ledger.record(intent.intent_id, "unknown", error={"details": str(exc)})
            self.metrics.sends.labels("unknown", "none").inc()
            await self._update(decision, row, "unknown", detail=f"outcome unknown: {exc}")
            return
        if result.wamid is not None:
            await self.ledger.record(intent.intent_id, "accepted", wamid=result.wamid)
            self.metrics.sends.labels("accepted", "none").inc()
            await self._update(decision, row, "accepted", wamid=result.wamid)
            return
        code = str(result.error.code) if result.error else f"http_{result.http_status}"
        verdict = outcomes.classify(result.http_status, result.error)
        if verdict is not outcomes.Classification.FAIL:
            await self.ledger.record(
                intent.intent_id, "retry", error=result.error.model_dump() if result.error else None
            )
            self.metrics.sends.labels(verdict.value, code).inc()
            raise RetryableError(f"Cloud API answered {code}; will retry")
        await self.ledger.record(
            intent.intent_id, "failed", error=result.error.model_dump() if result.error else None
        )
        self.metrics.sends.labels("failed", code).inc()
        await self._update(
            decision, row, "failed", errors=[result.error] if result.error else [], reasons=[code]
        )

    async def on_status(self, status: MessageStatusReported, _: Record) -> None:
        row = None
        if status.biz_opaque_callback_data:
            row = await self.ledger.get(status.biz_opaque_callback_data)
        if row is None:
            row = await self.ledger.by_wamid(status.message_id)
        if row is None:
            log.debug("status for a message wagate did not send", wamid=status.message_id)
            return
        new_state = outcomes.advance(row.state, status.status)
        if new_state is None:
            return
        await self.ledger.record(
            row.intent_id,
            new_state,
            wamid=status.message_id,
            error={"errors": [e.model_dump() for e in status.errors]} if status.errors else None,
        )
        await self._update(
            status,
            row,
            new_state,
            wamid=status.message_id,
            errors=status.errors,
            reasons=[str(e.code) for e in status.errors],
        )

    async def _update(
        self,
        cause: Event,
        row: LedgerRow,
        state: str,
        *,
        wamid: str | None = None,
        reasons: list[str] | None = None,
        detail: str = "",
        errors: list[MetaError] | None = None,
    ) -> None:
        update = DeliveryUpdated(
            **_caused(cause, deterministic_id("delivery", row.intent_id, state)),
            producer=PRODUCER,
            intent_id=row.intent_id,
            phone_number_id=row.phone_number_id,
            to=row.recipient,
            state=_state(state),
            wamid=wamid,
            reasons=reasons or [],
            detail=detail,
            errors=errors or [],
            metadata=row.metadata,
        )
        await self.publisher.publish(
            DELIVERY, update, key=conversation_key(row.phone_number_id, row.recipient)
        )
        self.metrics.updates.labels(state).inc()


def _caused(cause: Event, event_id: str) -> dict[str, Any]:
    return dict(cause.caused(event_id=event_id))


def _state(state: str) -> DeliveryState:
    known: tuple[DeliveryState, ...] = (
        "rejected",
        "accepted",
        "sent",
        "delivered",
        "read",
        "played",
        "failed",
        "expired",
        "unknown",
    )
    return next(s for s in known if s == state)
