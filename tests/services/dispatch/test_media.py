"""Dispatch's media for sending: checked before any call, uploaded once per number and media id
lifetime, re-uploaded from the kept file when the id lapsed; `ref` sends resolved to ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.dispatch.cloudapi import SendOutcome
from services.dispatch.media import (
    MediaRefused,
    MediaUploads,
    SendsByReference,
    Upload,
    checked_type,
)
from services.dispatch.media_store import LocalStore
from shared import media

SAMPLES = Path(__file__).parents[3] / "services/templates/starter/media"
PNG = (SAMPLES / "receipt.png").read_bytes()
PDF = (SAMPLES / "itinerary.pdf").read_bytes()
NUMBER = "106540352242922"


@dataclass
class FakeMediaApi:
    calls: list[tuple[str, str, int]] = field(default_factory=list)

    async def upload(self, phone_number_id: str, data: bytes, mime: str, filename: str) -> str:
        self.calls.append((phone_number_id, mime, len(data)))
        return str(1000 + len(self.calls))


@dataclass
class MemoryCache:
    rows: dict[tuple[str, str], Upload] = field(default_factory=dict)

    async def find(self, phone_number_id: str, sha256: str) -> Upload | None:
        return self.rows.get((phone_number_id, sha256))

    async def keep(self, upload: Upload) -> None:
        self.rows[(upload.phone_number_id, upload.sha256)] = upload


@dataclass
class FakeMessages:
    sent: list[dict[str, Any]] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)

    async def send(
        self, phone_number_id: str, payload: dict[str, Any], endpoint: str = "messages"
    ) -> SendOutcome:
        self.sent.append(payload)
        self.endpoints.append(endpoint)
        return SendOutcome(200, wamid="wamid.1")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def uploads(tmp_path: Path) -> tuple[MediaUploads, FakeMediaApi, Clock]:
    api, clock = FakeMediaApi(), Clock()
    made = MediaUploads(api, MemoryCache(), LocalStore(tmp_path), clock, timedelta(days=1))  # type: ignore[arg-type]
    return made, api, clock


@pytest.mark.parametrize(
    ("data", "mime", "kind", "sent_as", "code"),
    [
        (PNG, None, None, "image/png", None),
        (PDF, "application/pdf", "document", "application/pdf", None),
        (PNG, "image/jpeg", None, None, 131053),  # mislabelled
        (PDF, None, "image", None, 131053),  # a PDF is no image
        (PNG, "image/gif", None, None, 100),  # not a type WhatsApp takes
        (b"\x89PNG\r\n\x1a\n" + b"\0" * media.MB * 5, "image/png", None, None, 131053),
        (b"\x00\x01\x02 nothing known", None, None, None, 131053),
        (b"", "application/pdf", None, None, 131053),
    ],
)
def test_a_file_is_checked_against_metas_limits_before_any_call(
    data: bytes, mime: str | None, kind: str | None, sent_as: str | None, code: int | None
) -> None:
    if code is None:
        assert checked_type(data, mime, "f", kind) == sent_as
        return
    with pytest.raises(MediaRefused) as refused:
        checked_type(data, mime, "f", kind)
    assert refused.value.code == code and str(refused.value).startswith("f")


async def test_the_same_content_is_uploaded_once_per_number_within_its_lifetime(
    tmp_path: Path,
) -> None:
    made, api, clock = uploads(tmp_path)
    first, reused = await made.upload(NUMBER, PDF, filename="ticket.pdf")
    assert not reused and first.mime_type == "application/pdf"
    again, reused = await made.upload(NUMBER, PDF, filename="other-name.pdf")
    assert reused and again.media_id == first.media_id and len(api.calls) == 1
    other, reused = await made.upload("999", PDF)
    assert not reused and other.media_id != first.media_id and len(api.calls) == 2
    clock.now += media.UPLOADED_ID_LIFETIME - timedelta(hours=23)  # inside the reuse margin
    renewed, reused = await made.upload(NUMBER, PDF)
    assert not reused and renewed.media_id != first.media_id and len(api.calls) == 3
    assert renewed.expires_at == clock.now + media.UPLOADED_ID_LIFETIME


async def test_a_refused_file_makes_no_call_and_is_not_kept(tmp_path: Path) -> None:
    made, api, _ = uploads(tmp_path)
    with pytest.raises(MediaRefused):
        await made.upload(NUMBER, PDF, mime="image/png")
    assert api.calls == [] and list(tmp_path.rglob("*")) == []


async def test_an_intent_naming_content_is_sent_by_its_media_id(tmp_path: Path) -> None:
    made, api, clock = uploads(tmp_path)
    kept, _ = await made.upload(NUMBER, PDF)
    messages = FakeMessages()
    api_by_ref = SendsByReference(messages, made)
    payload = {
        "type": "document",
        "document": {"ref": f"sha256:{kept.sha256}", "filename": "t.pdf"},
    }
    for _ in range(2):
        assert (await api_by_ref.send(NUMBER, payload)).wamid == "wamid.1"
    assert [m["document"] for m in messages.sent] == [
        {"filename": "t.pdf", "id": kept.media_id}
    ] * 2
    assert len(api.calls) == 1
    clock.now += media.UPLOADED_ID_LIFETIME  # lapsed: uploaded again from the kept file
    await api_by_ref.send(NUMBER, payload)
    assert len(api.calls) == 2 and messages.sent[-1]["document"]["id"] != kept.media_id


async def test_a_template_header_may_name_content_too(tmp_path: Path) -> None:
    made, _, _ = uploads(tmp_path)
    kept, _ = await made.upload(NUMBER, PNG)
    messages = FakeMessages()
    header = {
        "type": "header",
        "parameters": [{"type": "image", "image": {"ref": f"sha256:{kept.sha256}"}}],
    }
    body = {"type": "body", "parameters": [{"type": "text", "text": "Maria"}]}
    payload = {"type": "template", "template": {"name": "r", "components": [header, body]}}
    await SendsByReference(messages, made).send(NUMBER, payload)
    await SendsByReference(messages, made).send(NUMBER, payload, "marketing_messages")
    assert messages.endpoints == ["messages", "marketing_messages"]  # the route is kept
    sent = messages.sent[0]["template"]["components"]
    assert sent[0]["parameters"][0]["image"] == {"id": kept.media_id} and sent[1] == body


async def test_content_wagate_does_not_hold_fails_before_the_send(tmp_path: Path) -> None:
    made, api, _ = uploads(tmp_path)
    messages = FakeMessages()
    payload = {"type": "image", "image": {"ref": "sha256:" + "ab" * 32}}
    outcome = await SendsByReference(messages, made).send(NUMBER, payload)
    assert outcome.error is not None and outcome.error.code == 131053
    assert not outcome.request_left and messages.sent == [] and api.calls == []


def test_the_store_keeps_files_by_hash_once_and_sweeps_old_ones(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    sha = store.put(PNG)
    assert sha == media.sha256(PNG) and store.put(PNG) == sha
    assert store.get(sha) == PNG and store.path(sha).parent.name == sha[:2]
    assert store.get("../../etc/passwd") is None
    with pytest.raises(ValueError):
        store.path("../" + "a" * 61)
    assert store.sweep(3600, now=store.path(sha).stat().st_mtime + 10) == 0
    assert store.sweep(3600, now=store.path(sha).stat().st_mtime + 3601) == 1
    assert store.get(sha) is None
