"""Meta's media facts, said once (rules §6.5): the types and sizes each kind of media may have,
how long media ids and download urls live, and the check of a file's bytes (magic bytes) against
the type it claims. Pure; the sandbox refuses with it what Meta refuses, and wagate checks a
file with it before any call to Meta."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from datetime import timedelta

import puremagic

MB = 1024 * 1024

UPLOADED_ID_LIFETIME = timedelta(days=30)
"""A media id from `POST /{phone-number-id}/media` lives 30 days."""
INBOUND_ID_LIFETIME = timedelta(days=7)
"""A media id in an inbound webhook can be fetched for 7 days."""
DOWNLOAD_URL_LIFETIME = timedelta(minutes=5)
"""The url `GET /{media-id}` answers with works for 5 minutes."""
INBOUND_MAX = 100 * MB
"""Customers' files over this never arrive (131052)."""

_OFFICE_ZIP = (
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
)
_OFFICE_OLE = ("application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint")

TYPES: dict[str, dict[str, int]] = {
    "audio": {
        t: 16 * MB for t in ("audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg")
    },
    "document": {
        t: 100 * MB for t in ("text/plain", "application/pdf", *_OFFICE_ZIP, *_OFFICE_OLE)
    },
    "image": {"image/jpeg": 5 * MB, "image/png": 5 * MB},
    "sticker": {"image/webp": 500 * 1024},  # 100 KB static; animated ones up to 500 KB
    "video": {"video/mp4": 16 * MB, "video/3gpp": 16 * MB},
}
"""Each kind's MIME types and the largest file of each (bytes)."""

HEADER_TYPES = {
    "IMAGE": ("image/jpeg", "image/png"),
    "VIDEO": ("video/mp4",),
    "DOCUMENT": ("application/pdf",),
}
"""What a template's media header sample may be (the Resumable Upload API's `file_type`s)."""

_FAMILIES: tuple[frozenset[str], ...] = (
    frozenset(_OFFICE_ZIP),  # one zip container: which one only the names inside tell
    frozenset(_OFFICE_OLE),
    frozenset({"video/mp4", "video/3gpp", "audio/mp4"}),  # ISO base media files
    frozenset({"audio/ogg", "application/ogg", "video/ogg"}),
)
_SIGNATURES = ((b"#!AMR", "audio/amr"),)  # what the sniffing library does not name


@dataclass(frozen=True)
class Refusal:
    """Why a file cannot be sent as it is, with the Cloud API's code for it."""

    code: int
    reason: str


def base_type(mime: str) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg`."""
    return mime.split(";", 1)[0].strip().lower()


def kind_of(mime: str) -> str | None:
    """The kind of media a MIME type is sent as (an image for image/png), None if none."""
    found = [kind for kind, types in TYPES.items() if base_type(mime) in types]
    return found[0] if found else None


def sniff(data: bytes) -> set[str]:
    """Every MIME type the bytes could be, by their magic bytes (empty: none known)."""
    found = {mime for magic, mime in _SIGNATURES if data.startswith(magic)}
    with contextlib.suppress(puremagic.PureError, ValueError):
        found |= {m.mime_type for m in puremagic.magic_string(data[: 64 * 1024]) if m.mime_type}
    if _plain_text(data):  # JSON, CSV, a letter: all plain text to WhatsApp
        found.add("text/plain")
    for family in _FAMILIES:
        if found & family:
            found |= family
    return found


def _plain_text(data: bytes) -> bool:
    sample = data[:4096]
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as exc:  # a character cut at the end of the sample is fine
        if exc.start < len(sample) - 3:
            return False
        text = sample[: exc.start].decode("utf-8")
    return bool(text) and all(c.isprintable() or c in "\t\r\n\f" for c in text)


def refusal(kind: str, mime: str, data: bytes) -> Refusal | None:
    """Why Meta would refuse `data` sent as `kind` with type `mime` (None: it would take it)."""
    declared = base_type(mime)
    allowed = TYPES.get(kind)
    if allowed is None:
        return Refusal(100, f"{kind!r} is not a kind of media; one of {sorted(TYPES)}")
    if declared not in allowed:
        return Refusal(
            100,
            f"{declared or 'no type'} is not a supported {kind} type; one of {sorted(allowed)}",
        )
    if not data:
        return Refusal(131053, "the file is empty")
    if len(data) > allowed[declared]:
        return Refusal(
            131053,
            f"the file is {len(data)} bytes; a {kind} of type {declared} may be at most "
            f"{allowed[declared]} bytes",
        )
    found = sniff(data)
    if declared not in found:
        what = ", ".join(sorted(found)) or "no known type"
        return Refusal(131053, f"the file is labelled {declared} but its bytes are {what}")
    return None


def guess_type(data: bytes, kind: str | None = None) -> str | None:
    """The supported type the bytes are (of `kind` when given), None when none fits."""
    found = sniff(data)
    kinds = [kind] if kind else list(TYPES)
    fits = [mime for each in kinds for mime in TYPES.get(each, {}) if mime in found]
    specific = [mime for mime in fits if mime != "text/plain"]  # plain text is the last guess
    ranked = specific or fits
    return ranked[0] if ranked else None


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
