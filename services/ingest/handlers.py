"""Ingest's I/O shell: verify -> journal -> normalise -> publish, answering only after Kafka
acknowledged everything, so Meta retries whatever wagate did not keep."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter

from services.ingest.normalize import PRODUCER, normalize
from services.ingest.settings import IngestSettings
from shared import logs, webhook_signature
from shared.events.envelope import deterministic_id
from shared.events.webhooks import WebhookReceived
from shared.messaging import Publisher
from shared.topics import WEBHOOKS_RAW

log = logs.get(__name__)


@dataclass(frozen=True)
class Reply:
    status: int
    text: str


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.webhooks = Counter(
            "wagate_ingest_webhooks_total",
            "Webhook POSTs by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.events = Counter(
            "wagate_ingest_events_total", "Events published by topic.", ["topic"], registry=registry
        )
        self.unparsed = Counter(
            "wagate_ingest_unparsed_total",
            "Webhook fragments not understood.",
            ["field"],
            registry=registry,
        )


class WebhookIntake:
    def __init__(
        self, settings: IngestSettings, publisher: Publisher, metrics: IngestMetrics
    ) -> None:
        self._secrets = [s.get_secret_value() for s in settings.app_secrets]
        self._verify_token = settings.verify_token.get_secret_value()
        self._publisher = publisher
        self._metrics = metrics

    def handshake(self, mode: str | None, token: str | None, challenge: str | None) -> Reply:
        if (
            mode == "subscribe"
            and token is not None
            and challenge is not None
            and (webhook_signature.constant_equal(token, self._verify_token))
        ):
            return Reply(200, challenge)
        return Reply(403, "verification failed")

    async def receive(self, body: bytes, signature: str | None, received_at: datetime) -> Reply:
        if not webhook_signature.verify(body, signature, self._secrets):
            return self._done("bad_signature", Reply(401, "invalid signature"))
        try:
            payload: Any = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return self._done("not_json", Reply(400, "body is not JSON"))
        if not isinstance(payload, dict):
            return self._done("not_json", Reply(400, "body is not a JSON object"))
        journal = WebhookReceived(
            event_id=deterministic_id("webhook", signature or "", body.decode(errors="replace")),
            producer=PRODUCER,
            body=body.decode(),
            received_at=received_at,
            signature=signature,
        )
        normalized = normalize(payload, correlation_id=journal.event_id)
        try:
            await self._publisher.publish(WEBHOOKS_RAW, journal, key=_journal_key(payload))
            await self._publisher.publish_many(normalized.events)
        except KafkaError as exc:
            log.warning("kafka unavailable, asking Meta to retry", reason=str(exc))
            return self._done("unavailable", Reply(503, "temporarily unavailable"))
        for spec, _, _ in normalized.events:
            self._metrics.events.labels(spec.name).inc()
        for item in normalized.unparsed:
            self._metrics.unparsed.labels(item.field).inc()
            log.info("unparsed webhook fragment", field=item.field, reason=item.reason)
        return self._done("accepted", Reply(200, "ok"))

    def _done(self, outcome: str, reply: Reply) -> Reply:
        self._metrics.webhooks.labels(outcome).inc()
        return reply


def _journal_key(payload: dict[str, Any]) -> str | None:
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            pnid = ((change.get("value") or {}).get("metadata") or {}).get("phone_number_id")
            if pnid:
                return str(pnid)
        if entry.get("id"):
            return str(entry["id"])
    return None
