"""The intake shell with fakes: what is published, in which order, what Meta is answered."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from services.ingest.handlers import WebhookIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.events.webhooks import WebhookReceived
from shared.http import Readiness
from shared.metrics import new_registry
from shared.topics import INBOUND_MESSAGES, STATUSES, WEBHOOKS_RAW, WEBHOOKS_UNPARSED
from shared.webhook_signature import sign
from tests.services.ingest.fakes import InMemoryDedupe, RecordingSink

SECRET = "app-secret"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
PNID = "106540352242922"
METADATA = {"display_phone_number": "15550783881", "phone_number_id": PNID}


def _body(messages: int = 1, statuses: int = 1, extra: list[Any] | None = None) -> bytes:
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "messages": [
            {
                "from": "16505551234",
                "id": f"wamid.in{i}",
                "timestamp": "1749416383",
                "type": "text",
                "text": {"body": f"hello {i}"},
            }
            for i in range(messages)
        ],
        "statuses": [
            {
                "id": f"wamid.out{i}",
                "status": "sent",
                "timestamp": "1750263773",
                "recipient_id": "16505551234",
            }
            for i in range(statuses)
        ],
    }
    changes = [{"field": "messages", "value": value}, *(extra or [])]
    payload = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]}
    return json.dumps(payload).encode()


class Harness:
    def __init__(self, **settings: Any) -> None:
        self.sink = RecordingSink()
        self.dedupe = InMemoryDedupe()
        self.registry = new_registry()
        self.readiness = Readiness({"kafka": True, "postgres": True})
        self.intake = WebhookIntake(
            IngestSettings(app_secrets=[SecretStr(SECRET)], **settings),
            self.sink,
            self.dedupe,
            IngestMetrics(self.registry),
            self.readiness,
        )

    async def post(self, body: bytes, signature: str | None = "sign") -> tuple[int, str]:
        header = sign(body, SECRET) if signature == "sign" else signature
        reply = await self.intake.receive(body, header, NOW)
        return reply.status, reply.text

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


async def test_a_webhook_is_journaled_first_then_normalised() -> None:
    h = Harness()
    body = _body()

    assert await h.post(body) == (200, "ok")

    assert h.sink.topics() == [WEBHOOKS_RAW.name, INBOUND_MESSAGES.name, STATUSES.name]
    _, journal, key = h.sink.published[0]
    assert isinstance(journal, WebhookReceived)
    assert (journal.body, journal.received_at, journal.signature) == (
        body.decode(),
        NOW,
        sign(body, SECRET),
    )
    assert key == PNID
    assert {e.correlation_id for _, e, _ in h.sink.published[1:]} == {journal.event_id}
    assert h.metric("wagate_ingest_webhooks_total", outcome="accepted") == 1
    assert h.metric("wagate_ingest_events_total", topic=INBOUND_MESSAGES.name, type="text") == 1
    assert h.metric("wagate_ingest_journal_lag_seconds_count") == 1


async def test_the_journal_and_the_events_of_a_webhook_go_in_one_produce() -> None:
    h = Harness()

    assert await h.post(_body(messages=2, statuses=2)) == (200, "ok")
    # a redelivery that adds one status: only the new status, in a produce of its own
    assert await h.post(_body(messages=2, statuses=3)) == (200, "ok")

    assert h.sink.produces == [
        [WEBHOOKS_RAW.name, *[INBOUND_MESSAGES.name] * 2, *[STATUSES.name] * 2],
        [WEBHOOKS_RAW.name, STATUSES.name],
    ]


@pytest.mark.parametrize(
    ("signature", "reason"),
    [(None, "missing"), ("sha256=abc", "malformed"), (sign(b"other", SECRET), "mismatch")],
)
async def test_a_bad_signature_is_401_and_nothing_is_kept(
    signature: str | None, reason: str
) -> None:
    h = Harness()

    assert await h.post(_body(), signature) == (401, "invalid signature")

    assert h.sink.published == []
    assert h.dedupe.states == {}
    assert h.metric("wagate_ingest_signature_failures_total", reason=reason) == 1
    assert h.metric("wagate_ingest_webhooks_total", outcome="bad_signature") == 1


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        (b"{not json", "the body is not JSON"),
        (b"\xff\xfe", "the body is not UTF-8 (byte 0)"),
        (b"[]", "the body must be a JSON object"),
        (b'{"entry": ' + b"[" * 40 + b"]" * 40 + b"}", "nests deeper than 32 levels"),
        (b'{"a": "\\ud800"}', "$.a holds an unpaired surrogate"),
        (b'{"a": NaN}', "the body has the non-standard JSON literal NaN"),
        (b'{"a": [1, Infinity]}', "the body has the non-standard JSON literal Infinity"),
        (b'{"a": -Infinity}', "the body has the non-standard JSON literal -Infinity"),
        (b'{"a": 1e400}', "the body has a number too large to hold (1e400)"),
    ],
)
async def test_a_signed_body_that_is_not_a_standard_json_object_is_400(
    body: bytes, reply: str
) -> None:
    h = Harness()

    status, text = await h.post(body)

    assert status == 400 and reply in text
    assert h.sink.published == []
    assert h.dedupe.states == {}
    assert h.metric("wagate_ingest_webhooks_total", outcome="not_json") == 1


async def test_a_nan_location_in_a_real_body_refuses_the_whole_body() -> None:
    h = Harness()
    valid = json.loads(_body())
    nan = {"latitude": float("nan"), "longitude": 1.0}
    location = {"from": "16505551234", "id": "wamid.loc", "timestamp": "1749416383",
                "type": "location", "location": nan}  # fmt: skip
    valid["entry"][0]["changes"][0]["value"]["messages"].append(location)

    status, _ = await h.post(json.dumps(valid).encode())  # Python writes NaN

    assert status == 400
    assert h.sink.published == []


async def test_a_future_timestamp_is_flagged_counted_and_still_published() -> None:
    h = Harness(future_skew_s=60)
    payload = json.loads(_body(messages=2, statuses=0))
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages[1]["timestamp"] = str(int(NOW.timestamp()) + 61)

    assert await h.post(json.dumps(payload).encode()) == (200, "ok")

    inbound = [e for t, e, _ in h.sink.published if t == INBOUND_MESSAGES.name]
    assert [(e.timestamp_in_future, e.received_at) for e in inbound] == [  # type: ignore[attr-defined]
        (False, NOW),
        (True, NOW),
    ]
    assert h.metric("wagate_ingest_future_timestamps_total", topic=INBOUND_MESSAGES.name) == 1


async def test_an_item_twice_in_one_body_is_published_and_claimed_once() -> None:
    h = Harness()
    payload = json.loads(_body(messages=1, statuses=1))
    value = payload["entry"][0]["changes"][0]["value"]
    value["messages"] *= 2
    value["statuses"] *= 3

    assert await h.post(json.dumps(payload).encode()) == (200, "ok")

    assert h.sink.topics() == [WEBHOOKS_RAW.name, INBOUND_MESSAGES.name, STATUSES.name]
    assert len(h.dedupe.states) == 3
    assert h.metric("wagate_ingest_repeated_items_total", topic=STATUSES.name) == 2
    assert h.metric("wagate_ingest_repeated_items_total", topic=INBOUND_MESSAGES.name) == 1


async def test_a_redelivered_webhook_yields_its_events_once() -> None:
    h = Harness()
    body = _body(messages=2, statuses=2)

    assert await h.post(body) == (200, "ok")
    first = list(h.sink.published)
    assert await h.post(body) == (200, "ok")

    assert h.sink.published == first
    assert h.metric("wagate_ingest_webhooks_total", outcome="duplicate") == 1
    assert h.metric("wagate_ingest_duplicate_events_total", topic=STATUSES.name) == 2


async def test_a_new_webhook_repeating_a_known_status_publishes_only_the_new_facts() -> None:
    h = Harness()
    await h.post(_body(messages=1, statuses=1))

    await h.post(_body(messages=2, statuses=1))

    inbound = [e.message_id for t, e, _ in h.sink.published if t == INBOUND_MESSAGES.name]
    assert inbound == ["wamid.in0", "wamid.in1"]
    assert h.sink.topics().count(STATUSES.name) == 1
    assert h.sink.topics().count(WEBHOOKS_RAW.name) == 2


async def test_kafka_down_is_503_then_the_retry_keeps_everything() -> None:
    h = Harness()
    body = _body(messages=2, statuses=1)
    h.sink.down = True

    assert await h.post(body) == (503, "temporarily unavailable")
    assert h.sink.published == []
    assert h.dedupe.states == {}
    assert h.readiness.checks["kafka"] is False  # until the next probe reaches Kafka

    h.sink.down = False
    h.readiness.set("kafka", True)  # the probe
    assert await h.post(body) == (200, "ok")
    assert h.sink.topics() == [WEBHOOKS_RAW.name, *[INBOUND_MESSAGES.name] * 2, STATUSES.name]
    assert h.metric("wagate_ingest_webhooks_total", outcome="unavailable") == 1


async def test_while_kafka_is_out_of_reach_a_webhook_is_503_at_once() -> None:
    h = Harness(publish_timeout_s=30)
    h.readiness.set("kafka", False)  # the last probe failed
    h.sink.down = True

    started = time.monotonic()
    assert await h.post(_body(messages=1)) == (503, "temporarily unavailable")
    assert time.monotonic() - started < 0.5  # no wait for the publish timeout
    assert h.sink.published == [] and h.dedupe.states == {}  # nothing claimed: Meta redelivers
    assert await h.post(_body(messages=1), signature="sha256=00") == (401, "invalid signature")
    h.readiness.set("kafka", True)
    h.sink.down = False
    assert await h.post(_body(messages=1)) == (200, "ok")


async def test_the_dedupe_store_down_is_503_and_nothing_is_published() -> None:
    h = Harness()
    h.dedupe.down = True

    assert (await h.post(_body()))[0] == 503
    assert h.sink.published == []


async def test_a_delivery_racing_another_in_flight_is_asked_to_retry() -> None:
    h = Harness()
    body = _body()
    assert await h.post(body) == (200, "ok")
    published = list(h.sink.published)
    h.dedupe.states = dict.fromkeys(h.dedupe.states, False)  # claims held by a request in flight

    assert await h.post(body) == (503, "being processed, retry later")

    assert h.sink.published == published
    assert h.metric("wagate_ingest_webhooks_total", outcome="busy") == 1


async def test_unparsed_fragments_are_published_and_counted() -> None:
    h = Harness()
    odd = {"field": "history", "value": {"history": []}}

    assert await h.post(_body(extra=[odd])) == (200, "ok")

    assert h.sink.topics()[-1] == WEBHOOKS_UNPARSED.name
    assert h.metric("wagate_ingest_unparsed_total", field="history", reason="not_typed_yet") == 1


async def test_a_malformed_item_is_counted_as_malformed() -> None:
    h = Harness()
    payload = json.loads(_body(messages=1, statuses=1))
    payload["entry"][0]["changes"][0]["value"]["statuses"].append(42)

    assert await h.post(json.dumps(payload).encode()) == (200, "ok")

    (unparsed,) = [e for t, e, _ in h.sink.published if t == WEBHOOKS_UNPARSED.name]
    assert isinstance(unparsed, WebhookFragmentUnparsed)
    assert (unparsed.fragment, unparsed.reason) == (
        42,
        "malformed: entry[0].changes[0].value.statuses[1]: not an object",
    )
    assert h.metric("wagate_ingest_unparsed_total", field="messages", reason="malformed") == 1
    assert h.sink.topics().count(STATUSES.name) == 1


async def test_a_flood_of_updates_is_kept_in_the_journal_with_one_unparsed_event() -> None:
    h = Harness(max_events_per_webhook=10)
    body = _body(messages=11, statuses=0)

    assert await h.post(body) == (200, "ok")

    assert h.sink.topics() == [WEBHOOKS_RAW.name, WEBHOOKS_UNPARSED.name]
    _, journal, _ = h.sink.published[0]
    _, flood, _ = h.sink.published[1]
    assert isinstance(flood, WebhookFragmentUnparsed)
    assert (flood.field, flood.fragment, flood.webhook_event_id) == (
        "<payload>",
        None,
        journal.event_id,
    )
    assert "11 events, more than 10" in flood.reason
    assert await h.post(body) == (200, "ok")
    assert len(h.sink.published) == 2


@pytest.mark.parametrize(
    ("mode", "token", "challenge", "reply"),
    [
        ("subscribe", "wagate-verify-token", "1158201444", (200, "1158201444")),
        ("subscribe", "wrong", "1158201444", (403, "verification failed")),
        ("unsubscribe", "wagate-verify-token", "1", (403, "verification failed")),
        ("subscribe", None, "1", (403, "verification failed")),
        ("subscribe", "wagate-verify-token", None, (403, "verification failed")),
    ],
)
def test_handshake(
    mode: str, token: str | None, challenge: str | None, reply: tuple[int, str]
) -> None:
    result = Harness().intake.handshake(mode, token, challenge)

    assert (result.status, result.text) == reply


async def test_logs_never_carry_a_customer_phone_number() -> None:
    h = Harness()
    broken = {
        "field": "messages",
        "value": {
            "metadata": METADATA,
            "messages": [
                {
                    "from": "16505551234",
                    "id": "wamid.x",
                    "timestamp": "16505551234999999999",
                    "type": "text",
                }
            ],
        },
    }

    with capture_logs() as logs:
        assert await h.post(_body(extra=[broken])) == (200, "ok")
        h.sink.down = True
        assert (await h.post(_body(messages=3)))[0] == 503

    assert logs, "ingest logs what it does"
    assert "16505551234" not in json.dumps(logs, default=str)


def test_a_claim_lease_shorter_than_a_publish_is_refused() -> None:
    with pytest.raises(ValueError, match="dedupe_lease_s"):
        IngestSettings(publish_timeout_s=30, dedupe_lease_s=10)
