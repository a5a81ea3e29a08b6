"""Delivers signed webhooks to the configured URL in order, retrying like Meta does."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from shared import logs, webhook_signature

log = logs.get(__name__)


class WebhookSender:
    """A queue of webhook bodies posted one by one; a failed post is retried with backoff."""

    def __init__(
        self, session: aiohttp.ClientSession, url: str, secret: str, retry_max_s: float
    ) -> None:
        self._session = session
        self._url = url
        self._secret = secret
        self._retry_max_s = retry_max_s
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.delivered = 0

    def enqueue(self, payload: dict[str, Any]) -> None:
        self._queue.put_nowait(json.dumps(payload, separators=(",", ":")).encode())

    async def drained(self) -> None:
        """Wait until every queued webhook was accepted."""
        await self._queue.join()

    async def run(self) -> None:
        while True:
            body = await self._queue.get()
            await self._post_until_accepted(body)
            self._queue.task_done()

    async def _post_until_accepted(self, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            webhook_signature.HEADER: webhook_signature.sign(body, self._secret),
        }
        backoff = 0.2
        while True:
            try:
                async with self._session.post(self._url, data=body, headers=headers) as resp:
                    if resp.status == 200:
                        self.delivered += 1
                        return
                    log.warning("webhook refused", status=resp.status, url=self._url)
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("webhook delivery failed", reason=str(exc), url=self._url)
            await asyncio.sleep(backoff)
            backoff = min(self._retry_max_s, backoff * 2)
