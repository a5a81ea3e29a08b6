"""The Cloud API client: one aiohttp session, timeouts on connect and read, a token per number."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from services.dispatch.settings import DispatchCloudApi
from shared.events.common import MetaError
from shared.meta_errors import NO_RESPONSE


@dataclass(frozen=True)
class SendOutcome:
    http_status: int
    wamid: str | None = None
    error: MetaError | None = None
    request_left: bool = True  # False when the request surely never reached Meta
    contacts: tuple[dict[str, str], ...] = ()  # Meta's `contacts[]`: input, wa_id, user_id


class MessagesApi(Protocol):
    """The Cloud API's send-message endpoint, as dispatch uses it (`CloudApi`)."""

    async def send(self, phone_number_id: str, payload: dict[str, Any]) -> SendOutcome: ...


class CloudApi:
    """`send` returns Meta's answer; it raises aiohttp.ClientError or TimeoutError when the
    request may have left but no answer came, or a 2xx answer says no wamid (`UnreadableAnswer`):
    the outcome is unknown."""

    def __init__(self, session: aiohttp.ClientSession, settings: DispatchCloudApi) -> None:
        self._session = session
        self._root = settings.root
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(
            sock_connect=settings.connect_timeout_s, sock_read=settings.read_timeout_s
        )

    def _headers(self, phone_number_id: str) -> dict[str, str]:
        token = self._settings.tokens.get(phone_number_id, self._settings.access_token)
        return {"Authorization": f"Bearer {token.get_secret_value()}"}

    async def send(self, phone_number_id: str, payload: dict[str, Any]) -> SendOutcome:
        url = f"{self._root}/{phone_number_id}/messages"
        try:
            async with self._session.post(
                url, json=payload, headers=self._headers(phone_number_id), timeout=self._timeout
            ) as resp:
                text = await resp.text()
                return _parse(resp.status, text)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            # No connection was made: the request surely never reached Meta.
            return SendOutcome(
                NO_RESPONSE, error=MetaError(code=-1, details=str(exc)), request_left=False
            )


class UnreadableAnswer(aiohttp.ClientError):
    """Meta answered 2xx without a wamid wagate can read: it may have accepted the message,
    so the outcome is unknown (never a failure, never a resend); a status settles it."""


def _wamid(body: Any) -> str | None:
    """The wamid of a send's 2xx answer (`{"messages": [{"id": ...}]}`), if it is there."""
    messages = body.get("messages") if isinstance(body, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    wamid = first.get("id") if isinstance(first, dict) else None
    return wamid if isinstance(wamid, str) and wamid else None


def _parse(status: int, text: str) -> SendOutcome:
    try:
        body: Any = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if 200 <= status < 300:
        wamid = _wamid(body)
        if wamid is None:
            raise UnreadableAnswer(f"HTTP {status} without a wamid: {text[:200]!r}")
        return SendOutcome(status, wamid=wamid, contacts=_contacts(body.get("contacts")))
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        data = err.get("error_data")
        return SendOutcome(
            status,
            error=MetaError(
                code=int(err.get("code", 0)),
                title=err.get("message"),
                message=err.get("message"),
                details=data.get("details") if isinstance(data, dict) else None,
            ),
        )
    return SendOutcome(status)


def _contacts(raw: Any) -> tuple[dict[str, str], ...]:
    """The answer's `contacts[]` as string fields only (anything else is left out)."""
    if not isinstance(raw, list):
        return ()
    fields = ("input", "wa_id", "user_id", "parent_user_id")
    return tuple(
        {k: v for k, v in item.items() if k in fields and isinstance(v, str) and v}
        for item in raw
        if isinstance(item, dict)
    )
