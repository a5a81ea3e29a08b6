"""Composition root of dispatch. `build` wires the pieces from the adapters it is given (the
ledger, the Cloud API, the publisher, the consumer to pause, the clock): `run` hands it the real
ones, the test rig and the benchmark theirs. `run` opens the pool, the producer, the Cloud API
session and the consumer, and closes them in reverse order on SIGTERM."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry

from services.dispatch import account_feed
from services.dispatch.accounts import AccountBook
from services.dispatch.activity import OutsideSends
from services.dispatch.backpressure import Backpressure, Pausable, RebalanceListener
from services.dispatch.budget import Budget, PostgresBudget
from services.dispatch.charges import ChargeBook
from services.dispatch.charges_store import PostgresCharges
from services.dispatch.cloudapi import CloudApi, MessagesApi
from services.dispatch.handback import HandBack
from services.dispatch.handlers import Decisions, Dispatcher
from services.dispatch.ledger import Ledger, LedgerRow
from services.dispatch.media import SendsByReference
from services.dispatch.media_web import MAX_BODY, upload_route
from services.dispatch.media_wiring import inbound_worker, media_uploads
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Reporter
from services.dispatch.sender import Senders
from services.dispatch.settings import DispatchSettings
from services.dispatch.settler import Settler
from services.dispatch.statuses import Statuses
from services.dispatch.store import PostgresLedger
from services.dispatch.transitions import Transitions
from services.dispatch.web import spend_handler
from shared import http, runtime
from shared.events.account import AccountUpdateReported
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import utcnow
from shared.events.signals import OutboundActivityObserved
from shared.events.webhooks import MessageStatusReported
from shared.messaging import (
    ConsumeLoop,
    EventPublisher,
    Publisher,
    Subscription,
    make_consumer,
    make_producer,
)
from shared.metrics import ConsumerMetrics, new_registry
from shared.sealing import Sealer
from shared.supervise import Supervisor, kafka_probe, postgres_probe, watch_reach
from shared.topics import DECISIONS, OUTBOUND_ACTIVITY, STATUSES

MIGRATIONS = Path(__file__).with_name("migrations")
REQUESTER_MAX = 200  # characters of who asked for a resend, as the ledger records it


@dataclass(frozen=True)
class Dispatch:
    """Dispatch wired and not yet started: the handlers its subscriptions call, the senders of
    each number (started on first use), the settler to run, and what they report through."""

    decisions: Decisions
    statuses: Statuses
    dispatcher: Dispatcher
    senders: Senders
    settler: Settler
    reporter: Reporter
    backpressure: Backpressure
    metrics: DispatchMetrics
    subscriptions: dict[str, Subscription[Any]]
    ledger: Ledger
    clock: Callable[[], datetime]
    accounts: AccountBook

    def on_account(self, update: AccountUpdateReported) -> None:
        """Meta reported on an account: a throughput upgrade raises its number's rate, and a
        signal that the sender may send again releases its held numbers."""
        applied = self.accounts.apply(update)
        for phone_number_id, mps in applied.retuned.items():
            self.senders.retune(phone_number_id, mps)
        for phone_number_id in applied.released:
            self.senders.release(phone_number_id)

    def numbers_view(self, registry: dict[str, dict[str, object]]) -> dict[str, object]:
        """`GET /numbers`: each registered number's settings and its live state."""
        live = self.accounts.view()
        return {n: {**registry.get(n, {}), **live.get(n, {})} for n in sorted({*registry, *live})}

    async def resend(self, intent_id: str, requested_by: str) -> LedgerRow | None:
        """Send once more, when asked, an intent whose send may have reached Meta (the ledger
        records who asked); None when the intent is in no state a resend applies to."""
        row = await self.ledger.resend(intent_id, requested_by)
        if row is not None:
            self.senders.submit(row, self.clock())
        return row


def build(
    settings: DispatchSettings,
    *,
    ledger: Ledger,
    api: MessagesApi,
    publisher: EventPublisher,
    clock: Callable[[], datetime],
    consumer: Pausable,
    registry: CollectorRegistry,
    jitter: Callable[[], float] = random.random,
    supervisor: Supervisor | None = None,
    charges: ChargeBook | None = None,
    budget: Budget | None = None,
) -> Dispatch:
    """Wire dispatch over these adapters; nothing runs until a sender or the settler is used."""
    metrics = DispatchMetrics(registry)
    backpressure = Backpressure(
        consumer, settings.backlog_high, settings.backlog_low, metrics.paused
    )
    reporter = Reporter(ledger, publisher, metrics, settings.group)
    transitions = Transitions(ledger, reporter)
    policy = settings.retry.policy()
    sealer = Sealer(settings.sealing_keys)
    handback = HandBack(ledger, transitions, publisher, sealer, settings.redecisions_max, clock)
    statuses = Statuses(ledger, transitions, reporter, metrics, handback, charges)
    dispatcher = Dispatcher(
        ledger, api, transitions, reporter, statuses, metrics, clock, policy, jitter,
        sealer=sealer, handback=handback, marketing_route=settings.marketing_route,
    )  # fmt: skip
    accounts = AccountBook(settings)
    senders = Senders(
        settings, dispatcher, backpressure, metrics, clock, supervisor, accounts.same_account,
        budget,
    )  # fmt: skip
    decisions = Decisions(ledger, transitions, senders, backpressure, clock)
    settler = Settler(
        ledger, transitions, reporter, senders, metrics, settings, policy, clock, handback,
        apply_kept=statuses.apply_early,
    )  # fmt: skip
    kafka = settings.kafka
    rates = settings.rates
    outside = OutsideSends(
        senders, metrics, clock, horizon_s=rates.pair_interval_s * rates.pair_burst
    )
    subscriptions: dict[str, Subscription[Any]] = {
        kafka.topic(DECISIONS.name): Subscription(
            DECISIONS, PolicyDecisionMade, decisions.on_decision, decisions.on_decisions
        ),
        kafka.topic(STATUSES.name): Subscription(
            STATUSES, MessageStatusReported, statuses.on_status, statuses.on_statuses
        ),
        kafka.topic(OUTBOUND_ACTIVITY.name): Subscription(
            OUTBOUND_ACTIVITY, OutboundActivityObserved, outside.on_activity
        ),
    }
    return Dispatch(
        decisions, statuses, dispatcher, senders, settler, reporter, backpressure, metrics,
        subscriptions, ledger, clock, accounts,
    )  # fmt: skip


async def run(settings: DispatchSettings, stop: asyncio.Event) -> None:
    settings = settings.with_registry()
    registry = new_registry()
    readiness = http.Readiness({"postgres": False, "kafka": False})
    supervisor = Supervisor("dispatch", registry, readiness)
    kafka = settings.kafka
    async with AsyncExitStack() as stack:
        producer = make_producer(kafka, "dispatch")
        async with http.starting(readiness, settings.http, "dispatch"):
            pool = await runtime.dependencies(
                "dispatch", settings.postgres, MIGRATIONS, kafka, producer, stack, stop, readiness
            )
        connector = aiohttp.TCPConnector(limit=settings.cloud_api.max_connections)
        session = await stack.enter_async_context(aiohttp.ClientSession(connector=connector))
        publisher = Publisher(producer, kafka)
        ledger = PostgresLedger(pool)
        consumer = make_consumer(kafka, settings.group, [])
        charges = PostgresCharges(pool)
        uploads = media_uploads(settings, session, pool)
        api = SendsByReference(CloudApi(session, settings.cloud_api), uploads)
        dispatch = build(
            settings, ledger=ledger, api=api,
            publisher=publisher, clock=utcnow, consumer=consumer, registry=registry,
            supervisor=supervisor, charges=charges, budget=PostgresBudget(pool),
        )  # fmt: skip
        senders = dispatch.senders
        stack.push_async_callback(supervisor.close)
        stack.push_async_callback(senders.close)  # after the consumer stopped: finish sends
        await runtime.waiting("PostgreSQL", partial(_restore, ledger, senders), stop)
        listener = RebalanceListener(dispatch.backpressure)
        consumer.subscribe(list(dispatch.subscriptions), listener=listener)
        await runtime.waiting("Kafka", consumer.start, stop)
        stack.push_async_callback(consumer.stop)
        readiness.set("kafka", True)
        app = http.base_app(readiness, registry, client_max_size=MAX_BODY)
        app.router.add_get("/numbers", _numbers(settings, dispatch))
        app.router.add_get("/spend", spend_handler(charges))
        keys = [key.get_secret_value() for key in settings.media.api_keys]
        app.router.add_post("/media", upload_route(uploads, keys))
        app.router.add_post("/intents/{intent_id}/resend", resend_handler(dispatch))
        await stack.enter_async_context(http.serving(app, settings.http, "dispatch"))
        await stack.enter_async_context(
            inbound_worker(settings, session, publisher, registry, supervisor)
        )
        loop = ConsumeLoop(
            consumer,
            settings.group,
            dispatch.subscriptions,
            publisher,
            ConsumerMetrics.create(registry, "dispatch"),
            side_by_side=True,  # its handlers wait on PostgreSQL and Kafka, safe side by side
        )
        probes = {"postgres": postgres_probe(pool), "kafka": kafka_probe(producer.client)}
        supervisor.spawn("reach", partial(watch_reach, readiness, probes))
        feed_halt = asyncio.Event()
        stack.callback(feed_halt.set)
        supervisor.spawn(
            "accounts", partial(account_feed.follow, kafka, dispatch.on_account, feed_halt)
        )
        await _until_stopped(loop, dispatch.settler, senders, stop, supervisor)
    supervisor.check()


async def _restore(ledger: Ledger, senders: Senders) -> None:
    """Intents queued before a restart: each number's sender reads its own from the ledger."""
    for phone_number_id in await ledger.queued_numbers():
        senders.get(phone_number_id).refill_soon()


async def _until_stopped(
    loop: ConsumeLoop,
    settler: Settler,
    senders: Senders,
    stop: asyncio.Event,
    supervisor: Supervisor,
) -> None:
    """Run until SIGTERM, a sender crash or a loop that gave up (the supervisor restarts the
    settler and the senders until then); a crash is re-raised once everything stopped."""
    halt = asyncio.Event()
    watchers = [
        asyncio.create_task(stop.wait()),
        asyncio.create_task(senders.failed.wait()),
        asyncio.create_task(supervisor.gave_up.wait()),
    ]
    settling = supervisor.spawn("settler", partial(settler.run, halt))
    consuming = asyncio.create_task(loop.run_until(halt))
    await asyncio.wait([*watchers, consuming], return_when=asyncio.FIRST_COMPLETED)
    halt.set()
    for watcher in watchers:
        watcher.cancel()
    await asyncio.gather(settling, consuming)
    crash = senders.crash()
    if crash is not None:
        raise crash


def _numbers(
    settings: DispatchSettings, dispatch: Dispatch
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def numbers(_: web.Request) -> web.Response:
        return web.json_response({"numbers": dispatch.numbers_view(settings.registry_view())})

    return numbers


def resend_handler(dispatch: Dispatch) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`POST /intents/{id}/resend` with `{"requested_by": "..."}`: 202 with the intent queued
    again, 404 when dispatch has no such intent, 409 when it is in a state no resend fits."""

    async def resend(request: web.Request) -> web.Response:
        intent_id = request.match_info["intent_id"]
        try:
            body = await request.json()
        except ValueError:
            body = None
        by = body.get("requested_by") if isinstance(body, dict) else None
        if not isinstance(by, str) or not by.strip() or len(by) > REQUESTER_MAX:
            why = f"requested_by (who asks, at most {REQUESTER_MAX} characters) is required"
            return web.json_response({"error": why}, status=400)
        row = await dispatch.resend(intent_id, by.strip())
        if row is not None:
            return web.json_response({"intent_id": intent_id, "state": row.state}, status=202)
        known = await dispatch.ledger.get(intent_id)
        if known is None:
            return web.json_response({"error": f"no intent {intent_id}"}, status=404)
        why = f"intent {intent_id} is {known.state}: only an unknown outcome may be resent"
        return web.json_response({"error": why, "state": known.state}, status=409)

    return resend
