"""Handing wagate a file to send (`POST /media` on dispatch, which holds the token): checked
here first against Meta's types and sizes, so a file Meta would refuse never leaves; the
answer is its media id on the number (uploaded once per lifetime) and the `ref` an intent can
name it by. The CLI's `wagate media upload` and the client's `upload_media` both use it."""

from __future__ import annotations

import asyncio
import base64
import json
import mimetypes
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from shared import media
from shared.errors import PermanentError, RetryableError


class MediaRefused(PermanentError):
    """The file cannot be sent as it is: the reason says why (type, size, bytes)."""


class MediaUnavailable(RetryableError):
    """Dispatch, or the Cloud API behind it, cannot take the file right now."""


def checked(data: bytes, filename: str, mime: str | None = None, kind: str | None = None) -> str:
    """The type the file goes as (given, else by its name, else by its bytes); raises
    MediaRefused when Meta would refuse it, or its bytes are not what its name or type say."""
    named = mimetypes.guess_type(filename)[0]
    if named is not None and media.kind_of(named) is None:
        named = None  # a name saying nothing WhatsApp knows: the bytes tell
    declared = mime or named or media.guess_type(data, kind)  # a known name must match them
    if declared is None:
        found = ", ".join(sorted(media.sniff(data))) or "no known type"
        raise MediaRefused(f"{filename}: its bytes are {found}, no type WhatsApp takes")
    sent_as = kind or media.kind_of(declared)
    if sent_as is None:
        raise MediaRefused(f"{filename}: {declared} is no type WhatsApp takes")
    refused = media.refusal(sent_as, declared, data)
    if refused is not None:
        raise MediaRefused(f"{filename}: {refused.reason}")
    return media.base_type(declared)


async def upload_media(
    dispatch_url: str, api_key: str, phone_number_id: str, path: str | Path, **options: Any
) -> dict[str, Any]:
    """`upload_media_now` (`mime`, `kind`, `timeout_s` as there) off the event loop."""
    return await asyncio.to_thread(
        upload_media_now, dispatch_url, api_key, phone_number_id, path, **options
    )


def upload_media_now(
    dispatch_url: str,
    api_key: str,
    phone_number_id: str,
    path: str | Path,
    *,
    mime: str | None = None,
    kind: str | None = None,
    timeout_s: float = 120.0,
) -> dict[str, Any]:
    """Upload the file at `path` for `phone_number_id`: `{"media_id", "ref", "sha256",
    "mime_type", "size", "expires_at", "reused"}`. Raises MediaRefused (checked before any
    call, or refused by dispatch or Meta) or MediaUnavailable."""
    if not dispatch_url.startswith(("http://", "https://")):
        raise MediaRefused(f"dispatch's URL must be http(s), not {dispatch_url!r}")
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise MediaRefused(f"{file}: cannot be read: {exc.strerror}") from exc
    sent_as = checked(data, file.name, mime, kind)
    query = urlencode({"phone_number_id": phone_number_id, "type": sent_as, "filename": file.name})
    request = Request(  # noqa: S310 (http or https, checked above)
        f"{dispatch_url.rstrip('/')}/media?{query}",
        data=data,
        method="POST",
        headers={"Authorization": f"Bearer {api_key}", "Content-Type": sent_as},
    )
    status, text = _post(request, timeout_s)
    try:
        answer: Any = json.loads(text)
    except ValueError:
        answer = text[:300]
    if status == 200 and isinstance(answer, dict):
        return answer
    reason = (answer.get("error") or {}).get("reason") if isinstance(answer, dict) else None
    if status >= 500 or status == 429:
        raise MediaUnavailable(f"HTTP {status}: {reason or answer}")
    raise MediaRefused(f"HTTP {status}: {reason or answer}")


def _post(request: Request, timeout_s: float) -> tuple[int, str]:
    try:
        with urlopen(request, timeout=timeout_s) as resp:  # noqa: S310 (checked: http or https)
            return int(resp.status), resp.read().decode("utf-8", errors="replace")
    except HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", errors="replace")
    except (URLError, TimeoutError, OSError) as exc:
        where = request.full_url.split("?")[0]
        raise MediaUnavailable(f"dispatch at {where} did not answer: {exc}") from exc


def inline_samples(template: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """The template with each media header sample named by a path (`example.header_sample`:
    "media/receipt.png", relative to `folder`) carried inline, as the templates API takes it:
    `{"data": base64, "mime_type", "file_name"}`. Raises MediaRefused for a missing file."""
    given = template.get("components")
    if not isinstance(given, list):
        return dict(template)
    components = []
    for component in given:
        example = component.get("example") if isinstance(component, Mapping) else None
        sample = example.get("header_sample") if isinstance(example, Mapping) else None
        if isinstance(sample, str):
            path = folder / sample
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise MediaRefused(f"header sample {sample}: cannot be read: {exc}") from exc
            named = mimetypes.guess_type(path.name)[0]
            inline = {
                "data": base64.b64encode(data).decode(),
                "mime_type": named or media.guess_type(data) or "",
                "file_name": path.name,
            }
            component = {**component, "example": {"header_sample": inline}}
        components.append(component)
    return {**template, "components": components}
