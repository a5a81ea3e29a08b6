"""Messages a number sent without dispatch (rules §6.1-6.2, §9.6): replies typed in the
WhatsApp Business app (`smb_message_echoes`) and Meta's agent's sends (`standby` echoes) reach
the customer from the same number, so each takes a token from the number's throughput bucket
and the customer's pair gate, and dispatch's next sends to that customer wait for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import ConsumerRecord

from services.dispatch.metrics import DispatchMetrics
from services.dispatch.sender import Senders
from shared import logs
from shared.events.signals import OutboundActivityObserved

log = logs.get(__name__)


def still_counts(sent_at: datetime, now: datetime, horizon_s: float) -> bool:
    """An echo sent within `horizon_s` of `now` still weighs on the buckets; an older one
    (read again after a restart, or delivered late) has been refilled already."""
    return (now - sent_at).total_seconds() < horizon_s


@dataclass(frozen=True)
class OutsideSends:
    senders: Senders
    metrics: DispatchMetrics
    clock: Callable[[], datetime]
    horizon_s: float  # how long one message weighs on a customer's pair gate
    monotonic: Callable[[], float] = field(default=time.monotonic)

    async def on_activity(
        self, activity: OutboundActivityObserved, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        if not still_counts(activity.timestamp, self.clock(), self.horizon_s):
            return
        sender = self.senders.get(activity.phone_number_id)
        sender.observe(activity.customer, self.monotonic())
        self.metrics.outside_sends.labels(activity.source).inc()
        log.info("outside send counted", source=activity.source, message_type=activity.message_type)
