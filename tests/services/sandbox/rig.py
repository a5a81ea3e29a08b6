"""A sandbox called directly, without HTTP: a clock the test moves, and every webhook it would
post kept in a list."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from services.sandbox.handlers import Sandbox
from services.sandbox.settings import SandboxSettings
from services.sandbox.webhook_sender import WebhookSender
from services.sandbox.world import World

T0 = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)


class RecordingSender:
    """Stands in for WebhookSender: keeps every webhook body the sandbox enqueues."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def enqueue(self, payload: dict[str, Any]) -> None:
        self.payloads.append(payload)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Rig:
    def __init__(self, status_delay_s: float = 0) -> None:
        self.sender = RecordingSender()
        self.clock = Clock(T0)
        self.world = World()
        self.sandbox = Sandbox(
            SandboxSettings(status_delay_s=status_delay_s),
            self.world,
            cast(WebhookSender, self.sender),
            self.clock,
        )

    async def webhooks(self, count: int) -> list[dict[str, Any]]:
        """Every webhook enqueued once the scheduled status tasks have run; there must be
        exactly `count`. With no status delay a lifecycle needs one loop turn per status."""
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(self.sender.payloads) == count
        return self.sender.payloads

    def statuses(self) -> list[dict[str, Any]]:
        return [
            item
            for payload in self.sender.payloads
            for entry in payload["entry"]
            for change in entry["changes"]
            for item in change["value"].get("statuses", [])
        ]

    def changes(self, field_name: str) -> list[dict[str, Any]]:
        """The `value` of every change of that field, in the order enqueued."""
        return [
            change["value"]
            for payload in self.sender.payloads
            for entry in payload["entry"]
            for change in entry["changes"]
            if change["field"] == field_name
        ]
