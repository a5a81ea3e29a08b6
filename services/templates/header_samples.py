"""Media header samples: a template may carry its header's sample file itself
(`example.header_sample`: `{"data": base64, "mime_type", "file_name"}`); it is checked against
what such a header takes, uploaded through the Resumable Upload API (session, upload from
`file_offset`, handle `h`), and the template goes to Meta with `example.header_handle: [h]`.
The same file is uploaded once per process (by sha256)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

import aiohttp

from services.templates.cloudapi import _parse
from services.templates.errors import CloudApiUnavailable
from services.templates.rules.issues import Issue, error
from services.templates.settings import TemplatesCloudApi
from shared import media

SAMPLE = "header_sample"
KINDS = {"IMAGE": "image", "VIDEO": "video", "DOCUMENT": "document"}


class ResumableUploads:
    """The Resumable Upload API: a session for the file, its bytes, the handle."""

    def __init__(self, session: aiohttp.ClientSession, settings: TemplatesCloudApi) -> None:
        self._session = session
        self._root = settings.root
        self._app_id = settings.app_id
        self._token = settings.access_token
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=settings.connect_timeout_s, sock_read=settings.read_timeout_s
        )
        self._handles: dict[str, str] = {}

    async def handle(self, data: bytes, mime: str, file_name: str) -> str:
        sha = media.sha256(data)
        if sha not in self._handles:
            self._handles[sha] = await self._upload(data, mime, file_name)
        return self._handles[sha]

    async def _upload(self, data: bytes, mime: str, file_name: str) -> str:
        query = {"file_name": file_name, "file_length": str(len(data)), "file_type": mime}
        auth = {"Authorization": f"OAuth {self._token.get_secret_value()}"}
        opened = await self._call("POST", f"{self._app_id}/uploads", params=query, headers=auth)
        session = str(opened["id"])
        offset = 0
        for _ in range(3):  # an interrupted upload resumes where the Cloud API says it stands
            try:
                answer = await self._call(
                    "POST", session, data=data[offset:],
                    headers={**auth, "file_offset": str(offset)},
                )  # fmt: skip
                return str(answer["h"])
            except CloudApiUnavailable:
                state = await self._call("GET", session, headers=auth)
                offset = int(state.get("file_offset", 0))
        raise CloudApiUnavailable(f"the upload of {file_name} did not complete")

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._session.request(
                method, f"{self._root}/{path}", timeout=self._timeout, **kwargs
            ) as resp:
                text, status = await resp.text(), resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CloudApiUnavailable(f"Cloud API unreachable: {exc}") from exc
        return _parse(status, text)


def sample_refusals(body: Mapping[str, Any]) -> list[Issue]:
    """What is wrong with the header samples a template carries (pure)."""
    return [issue for _, _, _, issue in _samples(body) if issue is not None]


async def with_handles(body: Mapping[str, Any], uploads: ResumableUploads) -> dict[str, Any]:
    """The template with each carried sample uploaded and named by its handle (samples must
    have passed `sample_refusals`). Raises CloudApiUnavailable or MetaApiError."""
    components = [dict(c) if isinstance(c, Mapping) else c for c in body.get("components") or []]
    for index, data, mime, _ in _samples(body):
        file_name = str(components[index]["example"][SAMPLE].get("file_name") or "sample")
        handle = await uploads.handle(data, mime, file_name)
        components[index] = {**components[index], "example": {"header_handle": [handle]}}
    return {**body, "components": components}


def _samples(body: Mapping[str, Any]) -> list[tuple[int, bytes, str, Issue | None]]:
    found: list[tuple[int, bytes, str, Issue | None]] = []
    components = body.get("components")
    for index, component in enumerate(components if isinstance(components, list) else []):
        if not isinstance(component, Mapping):
            continue
        example = component.get("example")
        sample = example.get(SAMPLE) if isinstance(example, Mapping) else None
        if sample is None:
            continue
        field = f"components[{index}].example.{SAMPLE}"
        kind = KINDS.get(str(component.get("format", "")).upper())
        data, mime, problem = _decoded(sample, kind)
        found.append(
            (index, data, mime, error(field, "SAMPLE_REFUSED", problem) if problem else None)
        )
    return found


def _decoded(sample: object, kind: str | None) -> tuple[bytes, str, str | None]:
    if kind is None:
        return b"", "", "only IMAGE, VIDEO and DOCUMENT headers take a sample file"
    if not isinstance(sample, Mapping) or not isinstance(sample.get("data"), str):
        return b"", "", "a sample is {data: base64, mime_type, file_name}"
    try:
        data = base64.b64decode(sample["data"], validate=True)
    except (binascii.Error, ValueError):
        return b"", "", "data is not base64"
    fmt = next(f for f, k in KINDS.items() if k == kind)
    mime = str(sample.get("mime_type") or media.guess_type(data, kind) or "")
    if mime not in media.HEADER_TYPES[fmt]:
        allowed = ", ".join(media.HEADER_TYPES[fmt])
        return data, mime, f"a {fmt} header sample is {allowed}, not {mime or 'unknown bytes'}"
    refused = media.refusal(kind, mime, data)
    return data, mime, refused.reason if refused else None
