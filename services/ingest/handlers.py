"""Ingest's I/O shell: verify -> journal -> normalise -> dedupe -> publish, answering 200 only
after Kafka acknowledged everything, so Meta retries whatever wagate did not keep."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from aiokafka.errors import KafkaError

from services.ingest.changes import PRODUCER, Emit
from services.ingest.metrics import IngestMetrics, event_label, reason_label
from services.ingest.normalize import bounded, normalize
from services.ingest.settings import IngestSettings
from services.ingest.store import Claim
from services.ingest.verify import Parsed, parse_body, signature_failure
from shared import logs, webhook_signature
from shared.errors import RetryableError
from shared.events.envelope import deterministic_id
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.events.webhooks import WebhookReceived
from shared.http import Readiness
from shared.messaging import EventPublisher
from shared.topics import WEBHOOKS_RAW

log = logs.get(__name__)


class Dedupe(Protocol):
    """The memory of event ids already published (see `store.SeenEvents`)."""

    async def claim(self, event_ids: Sequence[str]) -> Claim: ...

    async def complete(self, event_ids: Sequence[str]) -> None: ...

    async def release(self, event_ids: Sequence[str]) -> None: ...


@dataclass(frozen=True)
class Reply:
    status: int
    text: str


def journal_of(parsed: Parsed, body: bytes, signature: str | None, at: datetime) -> Emit:
    """The raw body as received, with an id from its digest (a redelivered body has the same)."""
    digest = hashlib.sha256(body).hexdigest()
    event = WebhookReceived(
        event_id=deterministic_id("webhook", digest),
        producer=PRODUCER,
        body=parsed.text,
        received_at=at,
        signature=signature,
    )
    return WEBHOOKS_RAW, event, journal_key(parsed.payload)


def journal_key(payload: dict[str, object]) -> str:
    """The first business number of the body, else its first WABA id."""
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            meta = value.get("metadata") if isinstance(value, dict) else None
            pnid = meta.get("phone_number_id") if isinstance(meta, dict) else None
            if isinstance(pnid, str | int) and pnid:
                return str(pnid)
        if isinstance(entry, dict) and isinstance(entry.get("id"), str | int):
            return str(entry["id"])
    return ""


class WebhookIntake:
    def __init__(
        self,
        settings: IngestSettings,
        publisher: EventPublisher,
        dedupe: Dedupe,
        metrics: IngestMetrics,
        readiness: Readiness | None = None,
    ) -> None:
        # the service's checks: while `kafka` is false (the last probe or publish failed), a
        # webhook is answered 503 at once; a failed publish makes it false until a probe passes
        self._readiness = readiness
        self._secrets = [s.get_secret_value() for s in settings.app_secrets]
        self._verify_token = settings.verify_token.get_secret_value()
        self._timeout_s = settings.publish_timeout_s
        self._max_events = settings.max_events_per_webhook
        self._future_skew = timedelta(seconds=settings.future_skew_s)
        self._publisher = publisher
        self._dedupe = dedupe
        self._metrics = metrics

    def handshake(self, mode: str | None, token: str | None, challenge: str | None) -> Reply:
        if (
            mode == "subscribe"
            and token is not None
            and challenge is not None
            and webhook_signature.constant_equal(token, self._verify_token)
        ):
            return Reply(200, challenge)
        return Reply(403, "verification failed")

    async def receive(self, body: bytes, signature: str | None, received_at: datetime) -> Reply:
        failure = signature_failure(body, signature, self._secrets)
        if failure is not None:
            self._metrics.signature_failures.labels(failure).inc()
            return self._done("bad_signature", Reply(401, "invalid signature"))
        parsed = parse_body(body)
        if isinstance(parsed, str):
            return self._done("not_json", Reply(400, parsed))
        if self._readiness is not None and self._readiness.checks.get("kafka") is False:
            # Kafka was out of reach at the last probe or publish: no wait for a timeout
            return self._done("unavailable", Reply(503, "temporarily unavailable"))
        journal = journal_of(parsed, body, signature, received_at)
        correlation = journal[1].event_id
        normalized = normalize(
            parsed.payload, correlation, received_at, self._future_skew, checked=parsed.plain
        )
        self._count_repeats(normalized.repeated)
        events = bounded(normalized.to_publish(correlation), self._max_events, correlation)
        try:
            claim = await self._dedupe.claim([e.event_id for _, e, _ in [journal, *events]])
        except RetryableError as exc:
            log.warning("dedupe store unavailable, asking Meta to retry", reason=str(exc))
            return self._done("unavailable", Reply(503, "temporarily unavailable"))
        return await self._publish(journal, events, claim, received_at)

    async def _publish(
        self, journal: Emit, events: list[Emit], claim: Claim, received_at: datetime
    ) -> Reply:
        fresh = [e for e in events if e[1].event_id in claim.mine]
        journaled = journal[1].event_id in claim.mine
        try:
            async with asyncio.timeout(self._timeout_s):
                # one produce: the journal record and the events wait for the same
                # acknowledgements (acks=all), each of them before the 200
                await self._publisher.publish_many([journal, *fresh] if journaled else fresh)
        except (KafkaError, TimeoutError) as exc:
            log.warning("kafka unavailable, asking Meta to retry", reason=str(exc) or "timeout")
            if self._readiness is not None:
                self._readiness.set("kafka", False)  # until the next probe reaches it again
            await self._forget(claim.mine)
            return self._done("unavailable", Reply(503, "temporarily unavailable"))
        if journaled:
            self._metrics.journal_lag.observe(max(time.time() - received_at.timestamp(), 0.0))
        await self._remember(claim.mine)
        self._count(events, fresh)
        if claim.busy:
            # Another delivery of the same facts is being published; Meta retries this one.
            return self._done("busy", Reply(503, "being processed, retry later"))
        outcome = "accepted" if fresh or journaled else "duplicate"
        return self._done(outcome, Reply(200, "ok"))

    async def _forget(self, ids: frozenset[str]) -> None:
        try:
            await self._dedupe.release(sorted(ids))
        except RetryableError as exc:  # the claims' lease lets the retry take them over
            log.warning("could not release dedupe claims", reason=str(exc))

    async def _remember(self, ids: frozenset[str]) -> None:
        try:
            await self._dedupe.complete(sorted(ids))
        except RetryableError as exc:  # published, so 200; past the lease a redelivery may repeat
            log.warning("could not mark events as published", reason=str(exc))

    def _count(self, events: list[Emit], fresh: list[Emit]) -> None:
        published = {e.event_id for _, e, _ in fresh}
        for spec, event, _ in events:
            if event.event_id not in published:
                self._metrics.duplicates.labels(spec.name).inc()
                continue
            self._metrics.events.labels(spec.name, event_label(event)).inc()
            if isinstance(event, WebhookFragmentUnparsed):
                self._metrics.unparsed.labels(event_label(event), reason_label(event)).inc()
                log.info("unparsed webhook fragment", field=event.field, reason=event.reason)
            if getattr(event, "timestamp_in_future", False):
                self._metrics.future_timestamps.labels(spec.name).inc()
                log.warning("timestamp later than receive time", topic=spec.name)
        if fresh:  # every webhook: a line each would cost more than its events (the metrics count)
            log.debug("webhook published", events=len(fresh), duplicates=len(events) - len(fresh))

    def _count_repeats(self, repeated: list[Emit]) -> None:
        for spec, _, _ in repeated:
            self._metrics.repeated.labels(spec.name).inc()
        if repeated:
            log.info("items repeated within one webhook published once", repeats=len(repeated))

    def _done(self, outcome: str, reply: Reply) -> Reply:
        self._metrics.webhooks.labels(outcome).inc()
        return reply
