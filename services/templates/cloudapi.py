"""The Cloud API's template management endpoints (§2.2): create, list, edit, delete."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from services.templates.errors import CloudApiUnavailable, MetaApiError
from services.templates.settings import TemplatesCloudApi
from shared.meta_errors import SenderAction, meaning


@dataclass(frozen=True)
class Created:
    meta_id: str
    status: str
    category: str | None


class TemplateApi:
    def __init__(self, session: aiohttp.ClientSession, settings: TemplatesCloudApi) -> None:
        self._session = session
        self._root = settings.root
        self._headers = {"Authorization": f"Bearer {settings.access_token.get_secret_value()}"}
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=settings.connect_timeout_s, sock_read=settings.read_timeout_s
        )
        self._page_size = settings.page_size

    async def create(self, waba_id: str, request: Mapping[str, Any]) -> Created:
        body = await self._call("POST", f"{waba_id}/message_templates", json=dict(request))
        category = body.get("category")
        return Created(
            meta_id=str(body["id"]),
            status=str(body.get("status") or "PENDING").upper(),
            category=str(category).upper() if category else None,
        )

    async def edit(self, meta_id: str, request: Mapping[str, Any]) -> None:
        await self._call("POST", meta_id, json=dict(request))

    async def unpause(self, meta_id: str) -> None:
        await self._call("POST", f"{meta_id}/unpause")

    async def delete(self, waba_id: str, name: str, meta_id: str | None = None) -> None:
        params = {"name": name, **({"hsm_id": meta_id} if meta_id else {})}
        await self._call("DELETE", f"{waba_id}/message_templates", params=params)

    async def fetch_all(self, waba_id: str) -> list[dict[str, Any]]:
        """Every template of the account, following the cursors."""
        found: list[dict[str, Any]] = []
        params: dict[str, str] = {"limit": str(self._page_size)}
        while True:
            body = await self._call("GET", f"{waba_id}/message_templates", params=params)
            found += [t for t in body.get("data") or [] if isinstance(t, dict)]
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return found
            params = {**params, "after": str(after)}

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._session.request(
                method,
                f"{self._root}/{path}",
                headers=self._headers,
                timeout=self._timeout,
                **kwargs,
            ) as resp:
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise CloudApiUnavailable(f"Cloud API unreachable: {exc}") from exc
        return _parse(status, text)


def _parse(status: int, text: str) -> dict[str, Any]:
    try:
        body: Any = json.loads(text) if text else {}
    except json.JSONDecodeError:
        body = None
    if 200 <= status < 300 and isinstance(body, dict):
        return body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = int(error.get("code", 0))
        message = str(error.get("error_user_msg") or error.get("message") or "")
        details = (error.get("error_data") or {}).get("details")
        if details:
            message = f"{message}: {details}"
        if status >= 500 or status == 429 or meaning(code).action is SenderAction.RETRY:
            raise CloudApiUnavailable(f"Cloud API error {code} (HTTP {status}): {message}")
        raise MetaApiError(status, code, message)
    if status >= 500 or status == 429:
        raise CloudApiUnavailable(f"Cloud API answered HTTP {status}")
    raise MetaApiError(status, 0, f"unexpected answer: {text[:200]}")
