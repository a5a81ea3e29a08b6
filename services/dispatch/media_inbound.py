"""The inbound media worker: each customer's image, video, audio, document or sticker is
fetched from Meta while its media id lives (`GET /{media-id}`, then the url with the number's
token), retried with backoff on transient failures, checked (size, bytes against the type Meta
reported, checksum against Meta's), kept by content hash, and reported on
`wagate.inbound.media.v1`: stored with its reference and sha256, or failed with the reason.
Urls and tokens are never logged."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import ConsumerRecord

from services.dispatch.media_api import MediaApi, MediaCallFailed
from services.dispatch.media_store import MediaStore
from shared import logs, media
from shared.events.envelope import deterministic_id
from shared.events.media import InboundMediaReported
from shared.events.message_types import MEDIA
from shared.events.reasons import Reason
from shared.events.webhooks import InboundMessageReceived
from shared.messaging import EventPublisher
from shared.meta_errors import SenderAction, meaning_of
from shared.topics import INBOUND_MEDIA

log = logs.get(__name__)


@dataclass(frozen=True)
class Verdict:
    """What the fetched bytes are: their type, or why they cannot be kept."""

    mime_type: str | None
    problem: str | None = None
    retry: bool = False  # a checksum that does not match: a broken download, fetch again


def verdict(declared: str | None, data: bytes, meta_sha256: str | None) -> Verdict:
    """Pure: the bytes of a customer's file against what Meta said of them."""
    if len(data) > media.INBOUND_MAX:
        return Verdict(None, f"{len(data)} bytes: over the {media.INBOUND_MAX} customers may send")
    if meta_sha256 and not _same_digest(data, meta_sha256):
        return Verdict(None, "the bytes do not match the sha256 Meta reported", retry=True)
    found = media.sniff(data)
    claimed = media.base_type(declared or "")
    if claimed and media.kind_of(claimed) is not None and claimed not in found:
        what = ", ".join(sorted(found)) or "no known type"
        return Verdict(None, f"reported as {claimed} but its bytes are {what}")
    return Verdict(claimed or media.guess_type(data) or "application/octet-stream")


def _same_digest(data: bytes, claimed: str) -> bool:
    """Whether `claimed` (hex, or the digest in base64 as webhooks may carry it) is the SHA-256
    of `data`; a value that is neither says nothing, so it does not refuse the file."""
    digest = hashlib.sha256(data).digest()
    text = claimed.strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text):
        return text.lower() == digest.hex()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return True
    return decoded == digest if len(decoded) == 32 else True


def retryable(failure: MediaCallFailed) -> bool:
    if not failure.reached or failure.status >= 500 or failure.status == 429:
        return True
    return meaning_of(failure.status, failure.error.code or None).action is SenderAction.RETRY


class InboundMedia:
    def __init__(
        self,
        api: MediaApi,
        store: MediaStore,
        publisher: EventPublisher,
        clock: Callable[[], datetime],
        attempts: int,
        backoff_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._api, self._store, self._publisher = api, store, publisher
        self._clock, self._attempts, self._backoff_s, self._sleep = (
            clock,
            attempts,
            backoff_s,
            sleep,
        )

    async def on_message(
        self, event: InboundMessageReceived, record: ConsumerRecord[bytes, bytes] | None = None
    ) -> None:
        if event.message_type not in MEDIA:
            return
        content = event.content
        media_id = str(content.get("id") or "")
        if not media_id:
            await self._report(event, "", "failed", 0, Reason.MEDIA_REFUSED, "no media id")
            return
        if self._clock() >= event.timestamp + media.INBOUND_ID_LIFETIME:
            detail = "past the 7 days Meta keeps a customer's media"
            await self._report(event, media_id, "failed", 0, Reason.MEDIA_FETCH_FAILED, detail)
            return
        await self._fetch(event, media_id, content)

    async def _fetch(
        self, event: InboundMessageReceived, media_id: str, content: dict[str, Any]
    ) -> None:
        detail, reason = "", Reason.MEDIA_FETCH_FAILED
        for attempt in range(1, self._attempts + 1):
            try:
                described = await self._api.describe(event.phone_number_id, media_id)
                data = await self._api.download(
                    event.phone_number_id, str(described["url"]), media.INBOUND_MAX
                )
            except MediaCallFailed as exc:
                detail = str(exc)
                if not retryable(exc):
                    reason = Reason.MEDIA_REFUSED if exc.error.code == 131052 else reason
                    return await self._report(event, media_id, "failed", attempt, reason, detail)
            except (KeyError, TypeError):
                detail = "the Cloud API's answer has no url"
            else:
                declared = content.get("mime_type") or described.get("mime_type")
                found = verdict(declared, data, content.get("sha256") or described.get("sha256"))
                if found.problem is None:
                    return await self._stored(event, media_id, content, data, found, attempt)
                detail = found.problem
                if not found.retry:
                    return await self._report(
                        event, media_id, "failed", attempt, Reason.MEDIA_REFUSED, detail
                    )
            log.warning("inbound media not fetched yet", media_id=media_id, attempt=attempt,
                        reason=detail)  # fmt: skip
            if attempt < self._attempts:
                await self._sleep(self._backoff_s * 2 ** (attempt - 1))
        await self._report(event, media_id, "failed", self._attempts, reason, detail)

    async def _stored(
        self, event: InboundMessageReceived, media_id: str, content: dict[str, Any],
        data: bytes, found: Verdict, attempt: int,
    ) -> None:  # fmt: skip
        sha = await asyncio.to_thread(self._store.put, data)  # a failing store raises: retried
        await self._report(
            event, media_id, "stored", attempt, None, "",
            reference=self._store.reference(sha), sha256=sha, mime_type=found.mime_type,
            size=len(data), filename=content.get("filename"), caption=content.get("caption"),
        )  # fmt: skip

    async def _report(
        self, event: InboundMessageReceived, media_id: str, outcome: str, attempts: int,
        reason: str | None, detail: str, **stored: Any,
    ) -> None:  # fmt: skip
        report = InboundMediaReported(
            **event.caused(event_id=deterministic_id("inbound-media", event.message_id)),
            producer="dispatch", phone_number_id=event.phone_number_id, wa_id=event.wa_id,
            message_id=event.message_id, message_type=event.message_type, media_id=media_id,
            outcome=outcome, attempts=attempts, reason=reason, detail=detail, **stored,
        )  # fmt: skip
        if outcome == "failed":
            log.warning("inbound media failed", message_id=event.message_id, reason=reason,
                        detail=detail)  # fmt: skip
        await self._publisher.publish(
            INBOUND_MEDIA, report, f"{event.phone_number_id}:{event.wa_id}"
        )
