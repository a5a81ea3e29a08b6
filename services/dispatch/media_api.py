"""The Cloud API's media endpoints as dispatch uses them: upload a file to a number
(`POST /{phone-number-id}/media`), look a media id up (`GET /{media-id}`: its url, type,
checksum) and download that url with the number's token. Urls and tokens are never logged."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from services.dispatch.cloudapi import CloudApi
from shared.events.common import MetaError
from shared.meta_errors import NO_RESPONSE


@dataclass(frozen=True)
class MediaCallFailed(Exception):
    """Meta refused the call, or never answered (`error.code` -1, `reached` False)."""

    status: int
    error: MetaError
    reached: bool = True

    def __str__(self) -> str:
        return f"HTTP {self.status}, code {self.error.code}: {self.error.details or ''}"


class MediaApi(CloudApi):
    async def upload(self, phone_number_id: str, data: bytes, mime: str, filename: str) -> str:
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime)
        form.add_field("file", io.BytesIO(data), filename=filename or "file", content_type=mime)
        body = await self._call("POST", f"{self._root}/{phone_number_id}/media", phone_number_id,
                                data=form)  # fmt: skip
        return str(body["id"])

    async def describe(self, phone_number_id: str, media_id: str) -> dict[str, Any]:
        url = f"{self._root}/{media_id}"
        params = {"phone_number_id": phone_number_id}
        return await self._call("GET", url, phone_number_id, params=params)

    async def download(self, phone_number_id: str, url: str, limit: int) -> bytes:
        """The file behind a media url (at most `limit` bytes: more is refused unread)."""
        try:
            async with self._session.get(
                url, headers=self._headers(phone_number_id), timeout=self._timeout
            ) as resp:
                if resp.status != 200:
                    raise MediaCallFailed(resp.status, _error(resp.status, await resp.text()))
                data = await resp.content.read(limit + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaCallFailed(NO_RESPONSE, MetaError(code=-1, details=type(exc).__name__),
                                  reached=False) from exc  # fmt: skip
        if len(data) > limit:
            raise MediaCallFailed(200, MetaError(code=131052, details=f"over {limit} bytes"))
        return data

    async def _call(self, method: str, url: str, number: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._session.request(
                method, url, headers=self._headers(number), timeout=self._timeout, **kwargs
            ) as resp:
                status, text = resp.status, await resp.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise MediaCallFailed(NO_RESPONSE, MetaError(code=-1, details=type(exc).__name__),
                                  reached=False) from exc  # fmt: skip
        try:
            body: Any = json.loads(text)
        except json.JSONDecodeError:
            body = None
        if status == 200 and isinstance(body, dict) and "error" not in body:
            return body
        raise MediaCallFailed(status, _error(status, text))


def _error(status: int, text: str) -> MetaError:
    try:
        body: Any = json.loads(text)
    except json.JSONDecodeError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return MetaError(code=0, details=f"HTTP {status}")
    data = err.get("error_data")
    return MetaError(
        code=int(err.get("code", 0)),
        title=err.get("message"),
        message=err.get("message"),
        details=data.get("details") if isinstance(data, dict) else None,
    )
