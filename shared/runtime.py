"""Process lifecycle: build a service's settings and refuse to start on a bad or public one, wait
(with a back-off and a log line naming it) for a broker or database that is not there yet, run
the service until SIGTERM/SIGINT (on the event loop `WAGATE_EVENT_LOOP` names) and then give its
drain a bounded time, and turn a background loop that kept failing into one clear log line and
a non-zero exit."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import NoReturn, TypeVar

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError
from pydantic import ValidationError

from shared import db, logs
from shared.errors import StartupError, WagateError
from shared.http import Readiness
from shared.messaging import ensure_topics
from shared.settings import (
    DEVELOPMENT_MODE,
    KafkaSettings,
    LogSettings,
    PostgresSettings,
    ServiceSettings,
)
from shared.supervise import LoopsGaveUp
from shared.topics import ALL_TOPICS

try:
    import uvloop
except ImportError:  # the `fast` extra is not installed: only asyncio's loop can be chosen
    uvloop = None  # type: ignore[assignment]

__all__ = [
    "EXIT_CONFIG",
    "EXIT_UNAVAILABLE",
    "StartupError",
    "Stopped",
    "configured",
    "exit_unavailable",
    "serve",
    "started",
    "waiting",
]

log = logs.get(__name__)
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE
EXIT_SOFTWARE = 70  # sysexits EX_SOFTWARE: a background loop kept failing
EXIT_CONFIG = 78  # sysexits EX_CONFIG
Settings = TypeVar("Settings", bound=ServiceSettings)
T = TypeVar("T")
DRAIN_S = 20.0  # the default bound of a drain (a service's `drain_s` setting)
WAIT_CAP_S = 10.0  # the longest pause between two tries of a dependency not there yet
NOT_THERE = (StartupError, KafkaError, db.DatabaseUnavailable, *db.UNAVAILABLE)
"""What a start-up step raises while its broker or database is not there (yet)."""


EVENT_LOOP = "WAGATE_EVENT_LOOP"
LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(environ: Mapping[str, str] = os.environ) -> LoopFactory | None:
    """The event loop a service runs on, from `WAGATE_EVENT_LOOP`: `asyncio` (also when unset:
    None, asyncio's own) or `uvloop` (the `fast` extra). Anything else, or uvloop asked for and
    not installed, raises ValueError."""
    choice = environ.get(EVENT_LOOP, "asyncio").strip().lower() or "asyncio"
    if choice == "asyncio":
        return None
    if choice != "uvloop":
        raise ValueError(f"{EVENT_LOOP} is {choice!r}: it is asyncio or uvloop")
    if uvloop is None:
        raise ValueError(f"{EVENT_LOOP}=uvloop, but uvloop is not installed (the fast extra)")
    factory: LoopFactory = uvloop.new_event_loop
    return factory


class Stopped(WagateError):
    """SIGTERM came while the service was still waiting for a dependency: it exits 0."""


def configured(name: str, cls: type[Settings]) -> Settings:
    """The service's settings from its environment, with logging set up by them. Settings that
    do not validate, a required secret missing, or (outside development mode) a secret at its
    public development default: one log line naming every such setting, then EX_CONFIG."""
    try:
        settings = cls()
    except ValidationError as exc:
        logs.configure(LogSettings(), name)
        prefix = cls.model_config.get("env_prefix", "")
        problems = [f"{_env_name(prefix, e['loc'])}: {e['msg']}" for e in exc.errors()]
        log.error("cannot start: invalid settings", service=name, settings=problems)
        sys.exit(EXIT_CONFIG)
    logs.configure(settings.log, name)
    refused = settings.refusals()
    if refused:
        log.error(
            "cannot start: secrets missing or left at their public development defaults",
            service=name,
            settings=refused,
            hint="README 'Using a real Meta app instead of the sandbox' names every secret; "
            f"{DEVELOPMENT_MODE}=true accepts the development defaults on a development machine",
        )
        sys.exit(EXIT_CONFIG)
    return settings


def _env_name(prefix: str, loc: tuple[int | str, ...]) -> str:
    names = [part for part in loc if isinstance(part, str)]
    if names == [DEVELOPMENT_MODE]:
        return DEVELOPMENT_MODE
    return prefix + "__".join(names).upper()


def serve(
    name: str, main: Callable[[asyncio.Event], Awaitable[None]], drain_s: float = DRAIN_S
) -> None:
    """Run `main(stop)` where `stop` is set on SIGTERM or SIGINT; exit non-zero on failure.
    Once `stop` is set, `main` has `drain_s` seconds to finish its work in flight and commit;
    past that it is cancelled (what it had not committed is read again by the next process,
    a webhook it had not answered is redelivered by Meta) and the process still exits 0."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await drained(name, asyncio.ensure_future(main(stop)), stop, drain_s)

    try:
        factory = loop_factory()
    except ValueError as exc:
        log.error("cannot start: invalid settings", service=name, settings=[str(exc)])
        sys.exit(EXIT_CONFIG)
    try:
        with asyncio.Runner(loop_factory=factory) as running:
            running.run(runner())
    except Stopped:
        log.info("stopped before it started", service=name)
        return
    except StartupError as exc:
        exit_unavailable(name, exc)
    except KafkaConnectionError as exc:
        exit_unavailable(name, exc, "Kafka is unreachable")
    except (ConnectionRefusedError, TimeoutError) as exc:
        exit_unavailable(name, exc, "a dependency is unreachable")
    except LoopsGaveUp as exc:
        log.error("stopped: a background loop kept failing", service=name, reason=str(exc))
        sys.exit(EXIT_SOFTWARE)
    log.info("stopped", service=name)


def exit_unavailable(name: str, exc: BaseException, what: str = "") -> NoReturn:
    """One log line saying why the service cannot start, then the unavailable exit code."""
    log.error(f"cannot start: {what}" if what else "cannot start", service=name, reason=str(exc))
    sys.exit(EXIT_UNAVAILABLE)


async def drained(
    name: str, work: asyncio.Future[None], stop: asyncio.Event, drain_s: float
) -> None:
    """Await `work`; once `stop` is set, give it `drain_s` seconds more, then cancel it."""
    stopping: asyncio.Future[None] = asyncio.ensure_future(_set(stop))
    try:
        await asyncio.wait([work, stopping], return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not work.done():
        log.info("draining", service=name, within_s=drain_s)
        done, _ = await asyncio.wait([work], timeout=drain_s)
        if not done:
            log.warning("drain took too long: the work in flight is handed back uncommitted",
                        service=name, drain_s=drain_s)  # fmt: skip
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
            return
    work.result()


async def _set(event: asyncio.Event) -> None:
    await event.wait()


async def waiting(
    what: str, attempt: Callable[[], Awaitable[T]], stop: asyncio.Event, cap_s: float = WAIT_CAP_S
) -> T:
    """Try a start-up step until `what` (Kafka, PostgreSQL) answers: each failure is logged
    ("waiting for <what>") and tried again after a pause that doubles up to `cap_s`. SIGTERM
    meanwhile raises `Stopped`, so a service never exits because a dependency is late."""
    pause = 0.25
    tries = 0
    while True:
        try:
            result = await attempt()
        except NOT_THERE as exc:
            tries += 1
            pause = min(pause * 2, cap_s)
            log.warning(f"waiting for {what}", reason=str(exc) or type(exc).__name__,
                        tries=tries, retry_in_s=pause)  # fmt: skip
        else:
            if tries:
                log.info(f"{what} reached", after_tries=tries)
            return result
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pause)
        if stop.is_set():
            raise Stopped(f"stopped while waiting for {what}")


async def dependencies(
    service: str,
    postgres: PostgresSettings,
    migrations: Path,
    kafka: KafkaSettings,
    producer: AIOKafkaProducer,
    stack: AsyncExitStack,
    stop: asyncio.Event,
    readiness: Readiness,
) -> asyncpg.Pool:
    """Reach PostgreSQL (pool, migrations) and Kafka (topics, `producer` started), each waited
    for as long as it takes (`waiting`); their readiness checks turn true as each is reached,
    and the stack closes what was opened. The pool is returned."""
    pool = await waiting("PostgreSQL", partial(db.create_pool, postgres), stop)
    stack.push_async_callback(pool.close)
    await waiting("PostgreSQL", partial(db.migrate, pool, service, migrations), stop)
    readiness.set("postgres", True)
    await waiting("Kafka", partial(ensure_topics, kafka, ALL_TOPICS), stop)
    await waiting("Kafka", producer.start, stop)
    stack.push_async_callback(producer.stop)
    return pool


async def started(what: str, awaitable: Awaitable[object]) -> None:
    """Await a start-up step, turning connection failures into a StartupError naming `what`."""
    try:
        await awaitable
    except (KafkaConnectionError, OSError, TimeoutError) as exc:
        raise StartupError(f"{what} is unreachable: {exc}") from exc
