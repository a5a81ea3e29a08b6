"""Composition root of policy: the faust app with its topics and tables, the handlers wired to
them, the agents, the window timer and the web pages; `run` creates the topics and hands over
to the faust worker, whose drain after SIGTERM is bounded by `drain_s`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import faust
from faust.types import TableT
from mode.utils.objects import cached_property
from prometheus_client import CollectorRegistry

from services.policy import rekeyed
from services.policy.agents import Topics, add_agents
from services.policy.deferrals import RELEASED_HEADER
from services.policy.flow import HeldFlow, SnapshotTransport
from services.policy.handlers import PolicyHandlers
from services.policy.local_tables import LocalTable
from services.policy.metrics import PolicyMetrics
from services.policy.publisher import KeptHash, Publisher
from services.policy.recovery import QuickTableManager
from services.policy.settings import PolicySettings
from services.policy.stall import StallWatch, watch_once
from services.policy.tables import TABLES, Tables, TableSpec, policy_topics
from services.policy.web import add_routes, deciding
from shared import http, logs, runtime
from shared.events.envelope import utcnow
from shared.messaging import connection_options, ensure_topics
from shared.metrics import new_registry
from shared.sealing import Sealer
from shared.settings import KafkaSettings
from shared.supervise import Supervisor
from shared.topics import (
    ACCOUNT_UPDATES,
    ALL_TOPICS,
    CALLS,
    CONSENT,
    CONVERSATION_PARTITIONS,
    DEAD_LETTERS,
    DECISIONS,
    IDENTITIES,
    INBOUND_MESSAGES,
    INTENTS,
    STATUSES,
    TEMPLATE_STATES,
    THREAD_CONTROL,
    USER_PREFERENCES,
    WINDOWS,
    TopicSpec,
)

SERVICE = "policy"
log = logs.get(__name__)


def run(settings: PolicySettings) -> None:
    """Create every topic, the tables' changelogs included, then run the faust worker, which
    runs its own event loop until SIGTERM. A broker not there yet is waited for (`/readyz`
    answers 503 meanwhile); SIGTERM while waiting exits 0."""
    try:
        asyncio.run(_topics_created(settings))
    except runtime.Stopped:
        log.info("stopped before it started", service=SERVICE)
        return
    registry = new_registry()
    supervisor = Supervisor(SERVICE, registry, http.Readiness({"timers": True}))

    def exit_code() -> int:
        if supervisor.gave_up.is_set():  # stopped because a timer kept failing: not a clean exit
            log.error("stopped: a background loop kept failing", reason=supervisor.reason)
            return runtime.EXIT_SOFTWARE
        return 0

    worker = DrainingWorker(
        create_app(settings, registry, supervisor),
        loglevel=settings.log.level.lower(),
        quiet=True,
        override_logging=False,  # keep `logs.configure`'s handler: faust's lines as JSON too
    )
    worker.bound(settings.drain_s, exit_code)
    try:
        worker.execute_from_commandline()
    finally:
        if code := exit_code():
            sys.exit(code)


class DrainingWorker(faust.Worker):
    """faust's worker with its drain bounded. On SIGTERM (or SIGINT) faust stops fetching,
    waits for the records its agents hold to be handled, commits and stops; a handler that
    does not finish would hold that wait forever. So the signal also starts a clock: past
    `drain_s` the process exits at once with `exit_code()` (0 unless a loop gave up), and the
    records not committed are read again by the next process (the handlers take repeats). The
    clock is a thread, started by a signal handler of the interpreter's own (asyncio's runs
    only once the event loop does), so even a handler that blocks the loop cannot hold the
    exit."""

    drain_s: float = runtime.DRAIN_S
    exit_code: Callable[[], int] = staticmethod(lambda: 0)
    _clock: threading.Timer | None = None

    def bound(self, drain_s: float, exit_code: Callable[[], int]) -> None:
        self.drain_s, self.exit_code = drain_s, exit_code
        self.spinner = None  # its terminal spinner writes control codes into the log

    def _install_signal_handlers_unix(self) -> None:
        super()._install_signal_handlers_unix()  # asyncio's: the loop is woken and stops
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._start_clock)  # the interpreter's: even while it is busy

    def _start_clock(self, *_: object) -> None:
        if self._clock is None:
            self._clock = threading.Timer(self.drain_s, self._handed_back)
            self._clock.daemon = True
            self._clock.start()

    def _schedule_shutdown(self, signal: signal.Signals) -> None:
        if not self._signal_stop_time:
            log.info("draining", service=SERVICE, within_s=self.drain_s)
            self._start_clock()
        super()._schedule_shutdown(signal)

    def _handed_back(self) -> None:
        log.warning("drain took too long: the work in flight is handed back uncommitted",
                    service=SERVICE, drain_s=self.drain_s)  # fmt: skip
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os._exit(self.exit_code())


async def _topics_created(settings: PolicySettings) -> None:
    """Wait for Kafka and create the topics, serving a not-ready /readyz meanwhile."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    readiness = http.Readiness({"kafka": False})
    async with http.starting(readiness, settings.http, SERVICE):
        await runtime.waiting("Kafka", partial(create_topics, settings), stop)


async def create_topics(settings: PolicySettings) -> None:
    await ensure_topics(settings.kafka, ALL_TOPICS)
    unprefixed = settings.kafka.model_copy(update={"topic_prefix": ""})
    await ensure_topics(unprefixed, policy_topics(settings.app_id))


class PolicyApp(faust.App):
    """faust's app with the streams' flow control and the fetch of `services.policy.flow`."""

    @cached_property
    def flow_control(self) -> HeldFlow:
        return HeldFlow(loop=self.loop)

    fetch_gather_ms = 0  # set from the settings by `create_app`

    def _new_transport(self) -> Any:  # the broker URLs are kafka:// (`_broker_url`)
        return SnapshotTransport(self.conf.broker_consumer, self)


def create_app(
    settings: PolicySettings,
    registry: CollectorRegistry | None = None,
    supervisor: Supervisor | None = None,
) -> faust.App:
    app = PolicyApp(
        settings.app_id,
        broker=_broker_url(settings.kafka.bootstrap),
        broker_credentials=_credentials(settings.kafka),
        store="memory://",
        TableManager=QuickTableManager,
        datadir=str(settings.data_dir),
        topic_partitions=CONVERSATION_PARTITIONS,
        producer_acks=-1,
        producer_linger=settings.kafka.linger_ms / 1000,  # batches, as every service's producer
        producer_partitioner=KeptHash(),  # aiokafka's default, each key's hash kept
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 5,
        consumer_auto_offset_reset="earliest",
        web_enabled=True,
        web_bind=settings.http.host,
        web_host=settings.http.host,
        web_port=settings.http.port,
        web_in_thread=False,
    )
    app.fetch_gather_ms = settings.fetch_gather_ms
    topics = _topics(app, settings.kafka, settings.app_id)
    tables = Tables(**{spec.name: LocalTable(_table(app, spec)) for spec in TABLES})
    registry = registry or new_registry()
    supervisor = supervisor or Supervisor(SERVICE, registry, http.Readiness({"timers": True}))

    emit_decision = Publisher(app, topics.decisions)

    async def emit_window(key: str, value: bytes) -> None:
        await topics.windows.send(key=key.encode(), value=value)

    async def release(key: str, value: bytes) -> None:
        await topics.intents.send(key=key.encode(), value=value, headers=[(RELEASED_HEADER, b"1")])

    async def reroute(key: str, value: bytes) -> None:
        await topics.intents.send(key=key.encode(), value=value)

    async def send_on(sent: rekeyed.Sent) -> None:
        await topics.rekeyed.send(key=sent.key.encode(), value=sent.value, headers=sent.headers)

    handlers = PolicyHandlers(
        tables=tables,
        config=settings.policy_config(),
        metrics=PolicyMetrics(registry),
        emit_decision=emit_decision,
        reroute_intent=reroute,
        emit_window=emit_window,
        release_intent=release,
        clock=utcnow,
        sealer=Sealer(settings.sealing_keys),
        send_on=send_on,
    )
    add_agents(app, topics, handlers, settings.app_id)
    lead = timedelta(seconds=settings.window_expiring_lead_s)

    async def scan() -> None:
        if deciding(app):  # a new assignment's windows are scheduled once they are recovered
            await handlers.announce_due(lead, timedelta(hours=1), app.consumer_generation_id)
        await handlers.deferrals.release_due(utcnow())

    async def announce_windows() -> None:
        """A failing scan is counted and tried again next tick; one failing every tick for
        too long stops the worker as SIGTERM would (its offsets committed), and `run` exits
        non-zero."""
        await supervisor.step("window-timer", scan)
        if supervisor.gave_up.is_set():
            os.kill(os.getpid(), signal.SIGTERM)

    app.timer(interval=settings.window_scan_interval_s, name="announce_windows")(announce_windows)
    watch = StallWatch(settings.stall_s)
    changelogs = {spec.changelog(settings.app_id) for spec in TABLES}
    is_changelog = lambda tp: tp.topic in changelogs  # noqa: E731

    async def look() -> None:
        await watch_once(app, watch, is_changelog)

    async def unstall() -> None:
        await supervisor.step("stall-watch", look)

    app.timer(interval=settings.stall_s / 3, name="stall_watch")(unstall)

    add_routes(app, registry, handlers, supervisor.readiness)
    return app


def _topics(app: faust.App, kafka: KafkaSettings, app_id: str) -> Topics:
    def raw(spec: TopicSpec, prefixed: bool = True) -> faust.TopicT:
        name = kafka.topic(spec.name) if prefixed else spec.name
        return app.topic(name, key_serializer="raw", value_serializer="raw")

    return Topics(
        inbound=raw(INBOUND_MESSAGES),
        intents=raw(INTENTS),
        consent=raw(CONSENT),
        preferences=raw(USER_PREFERENCES),
        template_states=raw(TEMPLATE_STATES),
        decisions=raw(DECISIONS),
        dead_letters=raw(DEAD_LETTERS),
        windows=raw(WINDOWS),
        statuses=raw(STATUSES),
        identities=raw(IDENTITIES),
        calls=raw(CALLS),
        thread_control=raw(THREAD_CONTROL),
        accounts=raw(ACCOUNT_UPDATES),
        rekeyed=raw(rekeyed.topic(app_id), prefixed=False),  # named after the app, as changelogs
    )


def _table(app: faust.App, spec: TableSpec) -> TableT[str, Any]:
    kind = app.GlobalTable if spec.everywhere else app.Table
    if spec.packed:  # the JSON bytes as the changelog holds them: faust's raw serializer
        return kind(spec.name, default=None, partitions=spec.partitions, value_type=bytes)
    return kind(spec.name, default=None, partitions=spec.partitions)


def _broker_url(bootstrap: str) -> str:
    return ";".join(f"kafka://{host.strip()}" for host in bootstrap.split(","))


def _credentials(kafka: KafkaSettings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    options = connection_options(kafka)  # validates the combination once for every client
    if kafka.security_protocol.startswith("SASL"):
        return faust.SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            mechanism=options["sasl_mechanism"],
            ssl_context=options.get("ssl_context"),
        )
    if kafka.security_protocol == "SSL":
        return faust.SSLCredentials(options["ssl_context"])
    return None
