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


def with_file(library: MediaLibrary, request: Mapping[str, Any]) -> Mapping[str, Any]:
    """The control request with its media kept in the library: `data` (base64) and
    `mime_type` give the file, else a small sample of the kind; `id` names a file kept before."""
    kind = str(request.get("type") or "text")
    raw = request.get(kind)
    if kind not in MEDIA or not isinstance(raw, Mapping):
        return request
    content = dict(raw)
    phone_number_id = str(request.get("phone_number_id") or "")
    kept = library.find(str(content["id"])) if content.get("id") else None
    if content.get("id") and kept is None:
        return request  # a bare id the library does not hold: carried as given
    if kept is None:
        mime, data = _file(kind, content)
        kept = library.received(phone_number_id, mime, data)
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
