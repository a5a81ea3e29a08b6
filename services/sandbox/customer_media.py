"""Customers sending media: the file of a played customer's image, video, audio, document or
sticker is kept in the media library, and the webhook carries its id, type and checksum, so the
business can fetch it as it would from Meta (`GET /{media-id}`, then the url)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from services.sandbox.errors import InvalidCustomerMessage
from services.sandbox.media import MediaLibrary
from shared import media
from shared.events.message_types import MEDIA

SAMPLES: dict[str, tuple[str, bytes]] = {
    "image": ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01" + b"\0" * 48),
    "video": ("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\0" * 40),
    "audio": ("audio/ogg; codecs=opus", b"OggS\x00\x02" + b"\0" * 20 + b"OpusHead" + b"\0" * 30),
    "document": ("application/pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n"),
    "sticker": ("image/webp", b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\0" * 24),
}
"""What a played customer sends when the request gives no file of its own."""


def file_in(request: Mapping[str, Any]) -> tuple[str, bytes] | None:
    """The new file a control request carries (its type and bytes: `data` in base64 and
    `mime_type`, else a small sample of the kind), None when it carries none (not media, or
    naming by `id` a file kept before). Pure: a bad file raises `InvalidCustomerMessage` before
    anything is kept."""
    kind = str(request.get("type") or "text")
    raw = request.get(kind)
    if kind not in MEDIA or not isinstance(raw, Mapping) or raw.get("id"):
        return None
    return _file(kind, raw)


def with_file(
    library: MediaLibrary, request: Mapping[str, Any], file: tuple[str, bytes] | None
) -> Mapping[str, Any]:
    """The control request with its media kept in the library: `file` (from `file_in`) is kept
    as new; an `id` the library holds names a file kept before; a bare id it does not hold is
    carried as given."""
    kind = str(request.get("type") or "text")
    raw = request.get(kind)
    if kind not in MEDIA or not isinstance(raw, Mapping):
        return request
    content = dict(raw)
    phone_number_id = str(request.get("phone_number_id") or "")
    if file is not None:
        kept = library.received(phone_number_id, *file)
    else:
        found = library.find(str(content["id"])) if content.get("id") else None
        if found is None:
            return request
        kept = found
    content.pop("data", None)
    content.update({"id": kept.id, "mime_type": kept.mime_type, "sha256": kept.sha256})
    return {**request, kind: content}


def _file(kind: str, content: Mapping[str, Any]) -> tuple[str, bytes]:
    if content.get("data") is None:
        return SAMPLES[kind]
    try:
        data = base64.b64decode(str(content["data"]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCustomerMessage(f"{kind}.data must be base64: {exc}") from exc
    if len(data) > media.INBOUND_MAX:
        raise InvalidCustomerMessage(f"customers cannot send files over {media.INBOUND_MAX} bytes")
    mime = str(content.get("mime_type") or media.guess_type(data) or "application/octet-stream")
    return mime, data
