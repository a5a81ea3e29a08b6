"""The sandbox's I/O shell: checks each request against the rules, records what happened,
and schedules the webhooks Meta would send."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.sandbox import envelopes, rules
from services.sandbox.settings import SandboxSettings
from services.sandbox.webhooks import WebhookSender
from services.sandbox.world import SentMessage, World
from shared.events.common import MetaError
from shared.events.keys import normalize_wa_id


def new_wamid() -> str:
    return "wamid.SBX" + secrets.token_hex(16).upper()


@dataclass(frozen=True)
class SendResult:
    status: int
    body: dict[str, Any]


class Sandbox:
    def __init__(
        self,
        settings: SandboxSettings,
        world: World,
        sender: WebhookSender,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self.world = world
        self._sender = sender
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    def authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        token = header.removeprefix("Bearer ").strip()
        return any(
            secrets.compare_digest(token, t.get_secret_value())
            for t in self._settings.access_tokens
        )

    def send(self, phone_number_id: str, payload: dict[str, Any]) -> SendResult:
        error = rules.check_envelope(payload)
        kind = str(payload.get("type", "text"))
        if error is None and kind == "text":
            error = rules.check_text(payload["text"])
        if error is not None:
            return self._refuse(error)
        now = self._clock()
        recipient = normalize_wa_id(str(payload["to"]))
        wamid = new_wamid()
        callback = payload.get("biz_opaque_callback_data")
        self.world.sent[wamid] = SentMessage(
            wamid,
            phone_number_id,
            recipient,
            kind,
            now,
            callback if isinstance(callback, str) else None,
        )
        late = rules.check_window(kind, self.world.last_message_at(phone_number_id, recipient), now)
        if late is not None:
            self.world.violate(now, phone_number_id, recipient, late, wamid)
        self._spawn(self._lifecycle(wamid, late))
        return SendResult(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": payload["to"], "wa_id": recipient}],
                "messages": [{"id": wamid}],
            },
        )

    def customer_message(self, phone_number_id: str, wa_id: str, text: str, name: str) -> str:
        """A customer writes to the business: the window opens and ingest gets the webhook."""
        now = self._clock()
        wa_id = normalize_wa_id(wa_id)
        wamid = new_wamid()
        self.world.customer_wrote(phone_number_id, wa_id, now)
        self._sender.enqueue(
            envelopes.inbound_text(
                waba_id=self._settings.waba_id,
                phone_number_id=phone_number_id,
                display=self._settings.display_phone_number,
                wa_id=wa_id,
                name=name,
                wamid=wamid,
                at=now,
                body=text,
            )
        )
        return wamid

    async def _lifecycle(self, wamid: str, error: MetaError | None) -> None:
        states = ["failed"] if error is not None else ["sent", "delivered"]
        for state in states:
            await asyncio.sleep(self._settings.status_delay_s)
            self._emit_status(wamid, state, error)

    def _emit_status(self, wamid: str, state: str, error: MetaError | None) -> None:
        msg = self.world.sent[wamid]
        self._sender.enqueue(
            envelopes.status(
                waba_id=self._settings.waba_id,
                phone_number_id=msg.phone_number_id,
                display=self._settings.display_phone_number,
                wamid=wamid,
                state=state,
                at=self._clock(),
                recipient=msg.recipient,
                callback=msg.callback,
                error=error,
            )
        )

    def _refuse(self, error: MetaError) -> SendResult:
        return SendResult(400, envelopes.error_body(error, secrets.token_urlsafe(12)))

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
