"""Process lifecycle: build a service's settings and refuse to start on a bad or public one, run
the service until SIGTERM/SIGINT, and turn an unreachable broker or database at start, or a
background loop that kept failing, into one clear log line and a non-zero exit."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

from aiokafka.errors import KafkaConnectionError
from pydantic import ValidationError

from shared import logs
from shared.errors import StartupError
from shared.settings import DEVELOPMENT_MODE, LogSettings, ServiceSettings
from shared.supervise import LoopsGaveUp

__all__ = [
    "EXIT_CONFIG",
    "EXIT_UNAVAILABLE",
    "StartupError",
    "configured",
    "exit_unavailable",
    "serve",
    "started",
]

log = logs.get(__name__)
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE
EXIT_SOFTWARE = 70  # sysexits EX_SOFTWARE: a background loop kept failing
EXIT_CONFIG = 78  # sysexits EX_CONFIG
Settings = TypeVar("Settings", bound=ServiceSettings)


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


def serve(name: str, main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    """Run `main(stop)` where `stop` is set on SIGTERM or SIGINT; exit non-zero on failure."""

    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    try:
        asyncio.run(runner())
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


async def started(what: str, awaitable: Awaitable[object]) -> None:
    """Await a start-up step, turning connection failures into a StartupError naming `what`."""
    try:
        await awaitable
    except (KafkaConnectionError, OSError, TimeoutError) as exc:
        raise StartupError(f"{what} is unreachable: {exc}") from exc
