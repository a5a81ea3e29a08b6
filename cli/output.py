"""What every `wagate` command does on the way out: JSON on stdout, one error line on stderr,
and the exit codes (0 ok, 1 a failed outcome, 2 usage, 69 a server is unreachable)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import aiohttp
import click
from aiokafka.errors import KafkaConnectionError, KafkaError

from shared.runtime import EXIT_UNAVAILABLE

EXIT_FAILED = 1
"""The outcome asked about is a failure: refused, failed, expired, a closed window."""

T = TypeVar("T")


def echo_json(value: Any, *, ensure_ascii: bool = True) -> None:
    """One JSON document on one line of stdout."""
    click.echo(json.dumps(value, default=str, ensure_ascii=ensure_ascii))


def unavailable(message: str) -> NoReturn:
    """Say which server could not be reached (stderr), and exit 69."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_UNAVAILABLE)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's Kafka work; a broker that cannot be reached exits 69."""
    try:
        return asyncio.run(coro)
    except (KafkaConnectionError, KafkaError) as exc:
        unavailable(f"Kafka is unreachable or refused the request: {exc}")


def run_http(coro: Coroutine[Any, Any, T], server: str, url: str) -> T:
    """Run a command's HTTP calls to `server` at `url`; no connection exits 69."""
    try:
        return asyncio.run(coro)
    except aiohttp.ClientConnectionError as exc:
        unavailable(f"{server} is unreachable at {url}: {exc}")
