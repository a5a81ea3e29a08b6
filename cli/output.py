"""What every `wagate` command does on the way out: JSON on stdout, one error line on stderr,
and the exit codes (0 ok, 1 a failed outcome, 2 usage, 69 a server is unreachable)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from aiokafka.errors import KafkaConnectionError, KafkaError

from shared.runtime import EXIT_UNAVAILABLE

T = TypeVar("T")


def echo_json(value: Any) -> None:
    """One JSON document on one line of stdout."""
    click.echo(json.dumps(value, default=str))


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's Kafka work; a broker that cannot be reached exits 69."""
    try:
        return asyncio.run(coro)
    except (KafkaConnectionError, KafkaError) as exc:
        click.echo(f"error: Kafka is unreachable or refused the request: {exc}", err=True)
        sys.exit(EXIT_UNAVAILABLE)
