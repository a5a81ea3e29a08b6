"""Dispatch's media for sending: a file handed to wagate is checked against Meta's types and
sizes before any call, kept by content hash, and uploaded to the number once per media id
lifetime (the cache, `dispatch_media_uploads`); an intent naming that content (`ref`) is sent
by the cached media id, uploaded again only when it lapsed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import asyncpg

from services.dispatch.cloudapi import MessagesApi, SendOutcome
from services.dispatch.errors import LedgerUnavailable
from services.dispatch.media_api import MediaApi, MediaCallFailed
from services.dispatch.media_store import MediaStore
from shared import media
from shared.db import reachable
from shared.errors import PermanentError
from shared.events.common import MetaError
from shared.events.intents import REF_PREFIX
from shared.events.message_types import MEDIA


class MediaRefused(PermanentError):
    """The file cannot be sent as it is (type, size, bytes, unknown reference)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


@dataclass(frozen=True)
class Upload:
    """One file on one number: its media id there while it lives."""

    phone_number_id: str
    sha256: str
    media_id: str
    mime_type: str
    size: int
    filename: str | None
    uploaded_at: datetime
    expires_at: datetime

    def json(self, reused: bool) -> dict[str, Any]:
        return {
            "media_id": self.media_id,
            "ref": REF_PREFIX + self.sha256,
            "sha256": self.sha256,
            "mime_type": self.mime_type,
            "size": self.size,
            "phone_number_id": self.phone_number_id,
            "expires_at": self.expires_at.isoformat(),
            "reused": reused,
        }


class MediaCache(Protocol):
    async def find(self, phone_number_id: str, sha256: str) -> Upload | None: ...
    async def keep(self, upload: Upload) -> None: ...


class PostgresMediaCache:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def find(self, phone_number_id: str, sha256: str) -> Upload | None:
        with reachable("media cache", LedgerUnavailable):
            row = await self._pool.fetchrow(
                "SELECT * FROM dispatch_media_uploads WHERE phone_number_id = $1 AND sha256 = $2",
                phone_number_id,
                sha256,
            )
        return None if row is None else Upload(**dict(row))

    async def keep(self, upload: Upload) -> None:
        with reachable("media cache", LedgerUnavailable):
            await self._pool.execute(
                """
                INSERT INTO dispatch_media_uploads (phone_number_id, sha256, media_id, mime_type,
                                                    size, filename, uploaded_at, expires_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (phone_number_id, sha256) DO UPDATE
                SET media_id = EXCLUDED.media_id, uploaded_at = EXCLUDED.uploaded_at,
                    expires_at = EXCLUDED.expires_at, mime_type = EXCLUDED.mime_type
                """,
                upload.phone_number_id, upload.sha256, upload.media_id, upload.mime_type,
                upload.size, upload.filename, upload.uploaded_at, upload.expires_at,
            )  # fmt: skip


def checked_type(data: bytes, mime: str | None, filename: str | None, kind: str | None) -> str:
    """The type `data` is sent as: `mime` when given (refused when Meta would refuse it), else
    the supported type its bytes are. Raises MediaRefused with a clear reason."""
    declared = mime or media.guess_type(data, kind)
    if declared is None:
        found = ", ".join(sorted(media.sniff(data))) or "no known type"
        raise MediaRefused(131053, f"{filename or 'the file'} ({found}) is no type WhatsApp takes")
    sent_as = kind or media.kind_of(declared) or ""
    refused = media.refusal(sent_as, declared, data)
    if refused is not None:
        raise MediaRefused(refused.code, f"{filename or 'the file'}: {refused.reason}")
    return media.base_type(declared)


class MediaUploads:
    def __init__(
        self,
        api: MediaApi,
        cache: MediaCache,
        store: MediaStore,
        clock: Callable[[], datetime],
        reuse_margin: timedelta,
    ) -> None:
        self._api, self._cache, self._store = api, cache, store
        self._clock, self._margin = clock, reuse_margin
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}

    async def upload(
        self,
        phone_number_id: str,
        data: bytes,
        mime: str | None = None,
        filename: str | None = None,
        kind: str | None = None,
    ) -> tuple[Upload, bool]:
        """The file's media id on the number, and whether it was reused (not uploaded now)."""
        sent_as = checked_type(data, mime, filename, kind)
        sha = await asyncio.to_thread(self._store.put, data)
        return await self._on_number(phone_number_id, sha, data, sent_as, filename)

    async def media_id(self, phone_number_id: str, sha256: str) -> str:
        """The media id of content handed to wagate before (`ref`), uploaded if it lapsed."""
        cached = await self._live(phone_number_id, sha256)
        if cached is not None:
            return cached.media_id
        data = await asyncio.to_thread(self._store.get, sha256)
        if data is None:
            raise MediaRefused(131053, f"wagate holds no file {REF_PREFIX}{sha256}: upload it")
        sent_as = checked_type(data, None, None, None)
        upload, _ = await self._on_number(phone_number_id, sha256, data, sent_as, None)
        return upload.media_id

    async def _live(self, phone_number_id: str, sha256: str) -> Upload | None:
        cached = await self._cache.find(phone_number_id, sha256)
        if cached is None or cached.expires_at - self._margin <= self._clock():
            return None
        return cached

    async def _on_number(
        self, number: str, sha: str, data: bytes, mime: str, filename: str | None
    ) -> tuple[Upload, bool]:
        async with self._locks.setdefault((number, sha), asyncio.Lock()):
            cached = await self._live(number, sha)
            if cached is not None:
                return cached, True
            media_id = await self._api.upload(number, data, mime, filename or f"{sha[:12]}")
            now = self._clock()
            upload = Upload(number, sha, media_id, mime, len(data), filename, now,
                            now + media.UPLOADED_ID_LIFETIME)  # fmt: skip
            await self._cache.keep(upload)
            return upload, False


class SendsByReference:
    """The messages endpoint with each media `ref` replaced by its media id on the number
    (uploaded first when needed); a reference that cannot be sent fails before the send."""

    def __init__(self, api: MessagesApi, uploads: MediaUploads) -> None:
        self._api, self._uploads = api, uploads

    async def send(
        self, phone_number_id: str, payload: dict[str, Any], endpoint: str = "messages"
    ) -> SendOutcome:
        try:
            resolved = await self._resolved(phone_number_id, payload)
        except MediaRefused as exc:
            refused = MetaError(code=exc.code, title="Media upload error", details=str(exc))
            return SendOutcome(400, error=refused, request_left=False)
        except MediaCallFailed as exc:
            return SendOutcome(exc.status, error=exc.error, request_left=False)
        return await self._api.send(phone_number_id, resolved, endpoint)

    async def _resolved(self, number: str, payload: dict[str, Any]) -> dict[str, Any]:
        kind = payload.get("type")
        if kind in MEDIA and isinstance(payload.get(kind), dict):
            return {**payload, kind: await self._object(number, payload[kind])}
        template = payload.get("template")
        if kind != "template" or not isinstance(template, dict):
            return payload
        components = []
        for component in template.get("components") or []:
            parameters = []
            for parameter in component.get("parameters") or []:
                ptype = parameter.get("type") if isinstance(parameter, dict) else None
                if ptype in MEDIA and isinstance(parameter.get(ptype), dict):
                    parameter = {**parameter, ptype: await self._object(number, parameter[ptype])}
                parameters.append(parameter)
            components.append({**component, "parameters": parameters} if parameters else component)
        return {**payload, "template": {**template, "components": components}}

    async def _object(self, number: str, content: dict[str, Any]) -> dict[str, Any]:
        ref = content.get("ref")
        if not isinstance(ref, str):
            return content
        if not ref.startswith(REF_PREFIX):
            raise MediaRefused(100, f"a media ref is {REF_PREFIX}<hex>, not {ref!r}")
        media_id = await self._uploads.media_id(number, ref.removeprefix(REF_PREFIX))
        return {**{k: v for k, v in content.items() if k != "ref"}, "id": media_id}
