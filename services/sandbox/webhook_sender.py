"""Delivers signed webhooks to the configured URL in order, retrying like Meta does, and
mangles them on purpose when faults are configured (duplicates, reordering, delays, bad
signatures), from a seeded random source so a run repeats. `Outbox` is the port the rest of
the sandbox posts webhooks through."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp

from services.sandbox.faults import FaultBoard, Faults, WebhookPlan
from services.sandbox.metrics import SandboxMetrics
from shared import logs, webhook_signature

log = logs.get(__name__)
REORDER_HOLD_S = 1.0
KEPT = 1000


class Outbox(Protocol):
    """Where the sandbox posts a webhook body: the sender, or a test's list."""

    def enqueue(self, payload: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Delivery:
    body: bytes
    bad_signature: bool = False


class WebhookSender:
    """A queue of webhook bodies posted one by one, or `posters` at once as Meta posts them
    (so they may arrive out of order); a failed post is retried with backoff.

    A badly signed copy is posted once and never retried; the genuine body follows it. The
    last webhooks are kept for inspection; with no URL they are only kept."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        secret: str,
        retry_max_s: float,
        board: FaultBoard | None = None,
        metrics: SandboxMetrics | None = None,
        posters: int = 1,
    ) -> None:
        if posters < 1:
            raise ValueError(f"posters must be at least 1, not {posters}")
        self._posters = posters
        self._session = session
        self._url = url
        self._secret = secret
        self._retry_max_s = retry_max_s
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue()
        self._held: list[Delivery] = []
        self._pending = 0
        self.board = board or FaultBoard(Faults(), None)
        self._metrics = metrics
        self.delivered = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self.refused_forgeries = 0
        self._delayed: dict[int, list[Delivery]] = {}  # batches waiting out a delay fault
        self._posting: list[Delivery] = []  # taken from the queue, not answered yet

    def enqueue(self, payload: dict[str, Any]) -> None:
        self.recent.append(payload)
        if not self._url:
            return
        body = json.dumps(payload, separators=(",", ":")).encode()
        plan = self.board.next_webhook_plan()
        self._count_faults(plan)
        batch = [Delivery(body, bad_signature=True)] if plan.bad_signature else []
        batch += [Delivery(body)] * plan.copies
        if plan.delay_s > 0:
            self._pending += 1
            self._delayed[id(batch)] = batch
            asyncio.get_running_loop().call_later(plan.delay_s, self._release, batch, True)
        elif plan.hold_for_reorder and not self._held:
            self._held = batch
            self._pending += 1
            asyncio.get_running_loop().call_later(REORDER_HOLD_S, self._release_held)
        else:
            self._release(batch, False)
            self._release_held()

    def _count_faults(self, plan: WebhookPlan) -> None:
        """Each fault this webhook suffers, in `wagate_sandbox_faults_total` (a hold is one
        only when nothing is held already; a delayed webhook is not held)."""
        if self._metrics is None:
            return
        suffered = {
            "webhook_duplicate": plan.copies > 1,
            "webhook_delay": plan.delay_s > 0,
            "webhook_reorder": plan.hold_for_reorder and plan.delay_s == 0 and not self._held,
            "webhook_bad_signature": plan.bad_signature,
        }
        for fault in (name for name, hit in suffered.items() if hit):
            self._metrics.faults.labels(fault).inc()

    def _release(self, batch: list[Delivery], was_pending: bool) -> None:
        if was_pending:
            self._pending -= 1
        self._delayed.pop(id(batch), None)
        for delivery in batch:
            self._queue.put_nowait(delivery)

    def _release_held(self) -> None:
        if self._held:
            held, self._held = self._held, []
            self._release(held, True)

    async def drained(self) -> None:
        """Wait until every webhook, delayed or held ones too, was posted."""
        while True:
            await self._queue.join()
            if self._pending == 0 and self._queue.empty():
                return
            await asyncio.sleep(0.05)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as posters:  # one failing stops them all
            for _ in range(self._posters):
                posters.create_task(self._poster())

    async def _poster(self) -> None:
        while True:
            delivery = await self._queue.get()
            self._posting.append(delivery)
            try:
                await self._post(delivery)
            finally:
                self._posting.remove(delivery)
                self._queue.task_done()

    def undelivered(self) -> list[Delivery]:
        """Every webhook not posted yet (being posted, queued, held or delayed), in order:
        what a restart must still deliver."""
        queued = list(self._queue._queue)  # type: ignore[attr-defined]
        delayed = [d for batch in self._delayed.values() for d in batch]
        return [*self._posting, *queued, *self._held, *delayed]

    def restore(self, deliveries: list[Delivery]) -> None:
        """Queue webhooks a previous run left undelivered (the faults were applied then)."""
        for delivery in deliveries:
            self._queue.put_nowait(delivery)

    async def _post(self, delivery: Delivery) -> None:
        secret = self._secret + ("-forged" if delivery.bad_signature else "")
        headers = {
            "Content-Type": "application/json",
            webhook_signature.HEADER: webhook_signature.sign(delivery.body, secret),
        }
        backoff = 0.2
        while True:
            try:
                async with self._session.post(
                    self._url, data=delivery.body, headers=headers
                ) as resp:
                    if delivery.bad_signature:
                        refused = resp.status != 200
                        self.refused_forgeries += refused
                        self._count("forgery_refused" if refused else "forgery_accepted")
                        return
                    if resp.status == 200:
                        self.delivered += 1
                        self._count("delivered")
                        return
                    self._count("refused")
                    log.warning("webhook refused", status=resp.status, url=self._url)
            except (aiohttp.ClientError, TimeoutError) as exc:
                self._count("failed")
                log.warning("webhook delivery failed", reason=str(exc), url=self._url)
                if delivery.bad_signature:
                    return
            await asyncio.sleep(backoff)
            backoff = min(self._retry_max_s, backoff * 2)

    def _count(self, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.webhooks.labels(outcome).inc()
