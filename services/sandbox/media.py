"""The sandbox's media library: files businesses upload (`POST /{phone-number-id}/media`) and
customers send, their expiring download urls, and the Resumable Upload API's sessions and the
header handles it issues (the only handles template creation takes). What it holds is a
`MediaState`, kept with the rest of the sandbox's world across restarts (`persistence`)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.sandbox.rules import codes
from shared import media
from shared.events.common import MetaError

UPLOAD_TYPES = frozenset({"application/pdf", "image/jpeg", "image/jpg", "image/png", "video/mp4"})
"""The `file_type`s a resumable upload session takes."""


@dataclass
class MediaFile:
    id: str
    phone_number_id: str
    mime_type: str
    data: bytes
    sha256: str
    expires_at: datetime

    def describe(self, url: str) -> dict[str, object]:
        """`GET /{media-id}`'s answer."""
        return {
            "messaging_product": "whatsapp",
            "url": url,
            "mime_type": self.mime_type,
            "sha256": self.sha256,
            "file_size": len(self.data),
            "id": self.id,
        }


@dataclass
class UploadSession:
    id: str
    file_name: str
    file_length: int
    file_type: str
    data: bytearray = field(default_factory=bytearray)
    handle: str | None = None


@dataclass
class MediaState:
    """The files, upload sessions and issued handles, and the key the download urls are signed
    with: a restarted sandbox that keeps them still serves the media ids a business cached, the
    customers' files whose webhooks wait, the urls it gave and the handles of its templates."""

    files: dict[str, MediaFile] = field(default_factory=dict)
    sessions: dict[str, UploadSession] = field(default_factory=dict)
    handles: dict[str, UploadSession] = field(default_factory=dict)
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))


class MediaLibrary:
    def __init__(self, clock: Callable[[], datetime], state: MediaState | None = None) -> None:
        self._clock = clock
        self.state = state if state is not None else MediaState()
        self._key = self.state.key
        self.files = self.state.files
        self.sessions = self.state.sessions
        self.handles = self.state.handles

    def reset(self) -> None:
        self.files.clear()
        self.sessions.clear()
        self.handles.clear()

    # Media for messages ---------------------------------------------------------------------

    def upload(
        self, phone_number_id: str, declared: str, data: bytes, product: str | None
    ) -> MediaFile | MetaError:
        """A business uploads a file to send: checked as Meta checks it, kept 30 days."""
        if product != "whatsapp":
            return codes.invalid_parameter("messaging_product must be whatsapp")
        kind = media.kind_of(declared)
        if kind is None:
            supported = sorted({t for types in media.TYPES.values() for t in types})
            return codes.invalid_parameter(
                f"Param file must be a file with one of the following types: {', '.join(supported)}"
                f". Received file of type '{declared}'."
            )
        refused = media.refusal(kind, declared, data)
        if refused is not None:
            return MetaError(
                code=refused.code, title="Media upload error", message="Media upload error",
                details=refused.reason,
            )  # fmt: skip
        return self._keep(phone_number_id, declared, data, media.UPLOADED_ID_LIFETIME)

    def received(self, phone_number_id: str, mime: str, data: bytes) -> MediaFile:
        """A customer's file, as the business finds it behind the webhook's media id (7 days)."""
        return self._keep(phone_number_id, mime, data, media.INBOUND_ID_LIFETIME)

    def _keep(self, number: str, mime: str, data: bytes, life: timedelta) -> MediaFile:
        media_id = str(1_000_000_000_000_000 + secrets.randbelow(10**15))
        kept = MediaFile(media_id, number, mime, data, media.sha256(data), self._clock() + life)
        self.files[media_id] = kept
        return kept

    def forget_expired(self) -> MediaState:
        """Drop the files past their lifetime (Meta forgot them too); the state left."""
        now = self._clock()
        for media_id in [i for i, kept in self.files.items() if now >= kept.expires_at]:
            del self.files[media_id]
        return self.state

    def find(self, media_id: str) -> MediaFile | None:
        kept = self.files.get(media_id)
        if kept is None or self._clock() >= kept.expires_at:
            return None
        return kept

    def url_query(self, media_id: str) -> dict[str, str]:
        """The signed, expiring part of a download url."""
        expires = int((self._clock() + media.DOWNLOAD_URL_LIFETIME).timestamp())
        return {"mid": media_id, "ext": str(expires), "hash": self._sign(media_id, expires)}

    def download(self, media_id: str, expires: str, signature: str) -> MediaFile | None:
        """The file behind a download url, while the url lives (None: expired or forged)."""
        try:
            at = int(expires)
        except ValueError:
            return None
        if not hmac.compare_digest(signature, self._sign(media_id, at)):
            return None
        if self._clock().timestamp() >= at:
            return None
        return self.find(media_id)

    def delete(self, media_id: str) -> bool:
        return self.files.pop(media_id, None) is not None

    def _sign(self, media_id: str, expires: int) -> str:
        return hmac.new(self._key, f"{media_id}:{expires}".encode(), hashlib.sha256).hexdigest()

    # The Resumable Upload API ---------------------------------------------------------------

    def open_session(self, file_name: str, file_length: str, file_type: str) -> str | MetaError:
        if not file_name:
            return codes.missing_parameter("file_name is required")
        if not file_length.isdigit() or int(file_length) <= 0:
            return codes.invalid_parameter("file_length must be a positive number of bytes")
        if file_type not in UPLOAD_TYPES:
            return codes.invalid_parameter(
                f"file_type must be one of {sorted(UPLOAD_TYPES)}, not {file_type!r}"
            )
        session = "upload:" + base64.urlsafe_b64encode(secrets.token_bytes(18)).decode()
        self.sessions[session] = UploadSession(session, file_name, int(file_length), file_type)
        return session

    def offset(self, session_id: str) -> int | None:
        session = self.sessions.get(session_id)
        return None if session is None else len(session.data)

    def append(self, session_id: str, offset: str, chunk: bytes) -> str | MetaError:
        """Bytes from `file_offset` on; once the whole file is there, its handle `h`."""
        session = self.sessions.get(session_id)
        if session is None:
            return codes.no_such_object(session_id)
        if session.handle is not None:
            return session.handle
        if not offset.isdigit() or int(offset) != len(session.data):
            return codes.invalid_parameter(
                f"file_offset must be {len(session.data)}, where the upload stands"
            )
        if len(session.data) + len(chunk) > session.file_length:
            return codes.invalid_parameter(f"more than the {session.file_length} bytes announced")
        session.data += chunk
        if len(session.data) < session.file_length:
            return codes.invalid_parameter(
                f"{len(session.data)} of {session.file_length} bytes received: resume from "
                f"file_offset {len(session.data)}"
            )
        declared = "image/jpeg" if session.file_type == "image/jpg" else session.file_type
        kind = media.kind_of(declared) or "document"
        refused = media.refusal(kind, declared, bytes(session.data))
        if refused is not None:
            return MetaError(
                code=refused.code, title="Media upload error", message="Media upload error",
                details=refused.reason,
            )  # fmt: skip
        label = base64.b64encode(declared.encode()).decode()
        session.handle = f"4::{label}:ARb{secrets.token_urlsafe(24)}"
        self.handles[session.handle] = session
        return session.handle

    def header_refusal(self, components: object) -> MetaError | None:
        """A media header whose sample is not a handle this API issued (or one of another type)."""
        if not isinstance(components, list):
            return None
        for index, component in enumerate(components):
            if (
                not isinstance(component, dict)
                or str(component.get("type", "")).upper() != "HEADER"
            ):
                continue
            wanted = media.HEADER_TYPES.get(str(component.get("format", "")).upper())
            handles = (component.get("example") or {}).get("header_handle")
            if wanted is None or not isinstance(handles, list):
                continue
            for handle in handles:
                refused = self._handle_refusal(str(handle), wanted)
                if refused is not None:
                    return codes.invalid_parameter(
                        f"components[{index}].example.header_handle: {refused}"
                    )
        return None

    def _handle_refusal(self, handle: str, wanted: tuple[str, ...]) -> str | None:
        session = self.handles.get(handle)
        if session is None:
            return f"{handle!r} is not a handle from the Resumable Upload API"
        declared = "image/jpeg" if session.file_type == "image/jpg" else session.file_type
        if declared not in wanted:
            return f"the sample is {declared}; this header takes {', '.join(wanted)}"
        return None
