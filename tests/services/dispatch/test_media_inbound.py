"""The inbound media worker: customers' files fetched within Meta's window, retried when the
failure is transient, checked, kept by content hash and reported; failures reported too."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.dispatch.media_api import MediaCallFailed
from services.dispatch.media_inbound import InboundMedia, verdict
from services.dispatch.media_store import LocalStore
from shared import media
from shared.events.common import MetaError
from shared.events.envelope import Event
from shared.events.media import InboundMediaReported
from shared.events.webhooks import InboundMessageReceived
from shared.topics import INBOUND_MEDIA, TopicSpec

SAMPLES = Path(__file__).parents[3] / "services/templates/starter/media"
PNG = (SAMPLES / "receipt.png").read_bytes()
PDF = (SAMPLES / "itinerary.pdf").read_bytes()
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
URL = "http://cloud/whatsapp_business/attachments/?mid=1&ext=9&hash=secret"


@dataclass
class FakeApi:
    data: bytes = PNG
    failures: list[MediaCallFailed] = field(default_factory=list)
    calls: int = 0

    async def describe(self, phone_number_id: str, media_id: str) -> dict[str, Any]:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return {"url": URL, "mime_type": "image/png", "sha256": media.sha256(self.data)}

    async def download(self, phone_number_id: str, url: str, limit: int) -> bytes:
        assert url == URL
        return self.data


@dataclass
class Recorder:
    events: list[tuple[TopicSpec, Event, str | None]] = field(default_factory=list)

    async def publish(
        self, spec: TopicSpec, event: Event, key: str | None, headers: Sequence[Any] = ()
    ) -> None:
        self.events.append((spec, event, key))

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        self.events.extend(items)


def photo(**content: Any) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id="106540352242922", wa_id="16505551234", message_id="wamid.A",
        timestamp=NOW - timedelta(minutes=1), message_type="image",
        content={"id": "777", "mime_type": "image/png", "caption": "the parcel", **content},
    )  # fmt: skip


async def run(
    tmp_path: Path, api: FakeApi, event: InboundMessageReceived, now: datetime = NOW
) -> tuple[InboundMediaReported, list[float]]:
    recorder, slept = Recorder(), []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    worker = InboundMedia(api, LocalStore(tmp_path), recorder, lambda: now, 4, 2.0, sleep)  # type: ignore[arg-type]
    await worker.on_message(event)
    assert len(recorder.events) == 1
    spec, report, key = recorder.events[0]
    assert spec is INBOUND_MEDIA and key == "106540352242922:16505551234"
    assert isinstance(report, InboundMediaReported)
    return report, slept


async def test_a_customers_photo_is_kept_by_its_hash_and_reported(tmp_path: Path) -> None:
    report, slept = await run(tmp_path, FakeApi(), photo())
    assert report.outcome == "stored" and report.sha256 == media.sha256(PNG)
    assert report.reference == LocalStore(tmp_path).reference(media.sha256(PNG))
    assert (report.mime_type, report.size, report.caption) == ("image/png", len(PNG), "the parcel")
    assert LocalStore(tmp_path).get(media.sha256(PNG)) == PNG and slept == []
    assert "secret" not in report.model_dump_json()  # the url never travels
    again, _ = await run(tmp_path, FakeApi(), photo())  # a redelivered message: the same event
    assert again.event_id == report.event_id


async def test_transient_failures_are_retried_with_backoff(tmp_path: Path) -> None:
    down = MediaCallFailed(500, MetaError(code=131016))
    gone = MediaCallFailed(-1, MetaError(code=-1), reached=False)
    api = FakeApi(failures=[down, gone])
    report, slept = await run(tmp_path, api, photo())
    assert report.outcome == "stored" and report.attempts == 3 and slept == [2.0, 4.0]


async def test_failures_end_in_a_failed_report_never_in_silence(tmp_path: Path) -> None:
    api = FakeApi(failures=[MediaCallFailed(500, MetaError(code=131016))] * 4)
    report, slept = await run(tmp_path, api, photo())
    assert (report.outcome, report.reason, report.attempts) == ("failed", "MEDIA_FETCH_FAILED", 4)
    assert slept == [2.0, 4.0, 8.0] and "131016" in report.detail
    refused = FakeApi(failures=[MediaCallFailed(400, MetaError(code=100, details="no object"))])
    report, slept = await run(tmp_path, refused, photo())
    assert (report.outcome, report.attempts, slept) == ("failed", 1, [])


async def test_a_file_not_of_its_reported_type_is_refused(tmp_path: Path) -> None:
    report, _ = await run(tmp_path, FakeApi(data=PDF), photo(sha256=None))
    assert (report.outcome, report.reason) == ("failed", "MEDIA_REFUSED")
    assert "application/pdf" in report.detail and list(tmp_path.rglob("*")) == []


async def test_past_metas_seven_days_nothing_is_fetched(tmp_path: Path) -> None:
    api = FakeApi()
    report, _ = await run(tmp_path, api, photo(), now=NOW + timedelta(days=7))
    assert (report.outcome, report.reason, api.calls) == ("failed", "MEDIA_FETCH_FAILED", 0)


async def test_messages_without_media_are_left_alone(tmp_path: Path) -> None:
    recorder = Recorder()
    worker = InboundMedia(FakeApi(), LocalStore(tmp_path), recorder, lambda: NOW, 3, 1.0)  # type: ignore[arg-type]
    text = photo().model_copy(update={"message_type": "text", "content": {"body": "hi"}})
    await worker.on_message(text)
    assert recorder.events == []


@pytest.mark.parametrize(
    ("declared", "data", "sha", "mime", "problem"),
    [
        ("image/png", PNG, media.sha256(PNG), "image/png", None),
        ("audio/ogg; codecs=opus", b"OggS\x00\x02" + b"\0" * 40, None, "audio/ogg", None),
        ("application/zip", b"PK\x03\x04" + b"\0" * 40, None, "application/zip", None),
        (None, PDF, None, "application/pdf", None),
        ("image/jpeg", PNG, None, None, "its bytes are image/png"),
        ("image/png", PNG, "0" * 64, None, "sha256"),
        (
            "image/png",
            PNG,
            base64.b64encode(hashlib.sha256(PNG).digest()).decode(),
            "image/png",
            None,
        ),
        ("image/png", PNG, base64.b64encode(b"\0" * 32).decode(), None, "sha256"),
        ("image/png", PNG, "not a digest", "image/png", None),
    ],
)
def test_the_verdict_on_a_customers_bytes(
    declared: str | None, data: bytes, sha: str | None, mime: str | None, problem: str | None
) -> None:
    found = verdict(declared, data, sha)
    assert found.mime_type == mime
    assert (found.problem is None) if problem is None else (problem in (found.problem or ""))
