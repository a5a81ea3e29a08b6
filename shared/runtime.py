"""Process lifecycle: run a service until SIGTERM/SIGINT, and turn an unreachable broker or
database at start, or a background loop that kept failing, into one clear log line and a
non-zero exit."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import NoReturn

from aiokafka.errors import KafkaConnectionError

from shared import logs
from shared.errors import StartupError
from shared.supervise import LoopsGaveUp

__all__ = ["EXIT_UNAVAILABLE", "StartupError", "exit_unavailable", "serve", "started"]

log = logs.get(__name__)
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE
EXIT_SOFTWARE = 70  # sysexits EX_SOFTWARE: a background loop kept failing


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
