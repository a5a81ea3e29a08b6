"""Test tiers and real servers.

Kafka and PostgreSQL come from KAFKA_BOOTSTRAP / DATABASE_URL when set, otherwise the local
scripts start them. When a server cannot be had, its tests skip on a laptop and fail under
CI=true: a skipped integration test must never pass as green in CI.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import SecretStr

from shared import sealing
from shared.messaging import ensure_topics
from shared.settings import KafkaSettings
from shared.topics import ALL_TOPICS

ROOT = Path(__file__).resolve().parent.parent
SERVER_MARKERS = ("kafka", "postgres", "e2e")
DEFAULT_DATABASE_URL = "postgresql://wagate:wagate@127.0.0.1:55432/wagate"
SEALING_KEY = SecretStr(sealing.new_key())  # the tests' own: the source holds no sealing key


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not any(item.get_closest_marker(m) for m in SERVER_MARKERS):
            item.add_marker(pytest.mark.unit)


def unavailable(what: str, reason: str) -> None:
    message = f"{what} is unavailable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: integration tests must run, not skip)")
    pytest.skip(message)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _start(script: str) -> str | None:
    try:
        subprocess.run(
            [str(ROOT / "deploy/local" / script), "start"],
            check=True,
            capture_output=True,
            text=True,
            timeout=240,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        return str(exc)
    return None


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP", "localhost:9092")
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    if not _reachable(host, int(port)):
        error = None if "KAFKA_BOOTSTRAP" in os.environ else _start("kafka.sh")
        if not _reachable(host, int(port)):
            unavailable("Kafka", error or f"nothing listens on {bootstrap}")
    return bootstrap


async def _can_connect(url: str) -> str | None:
    try:
        conn = await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        return str(exc)
    await conn.close()
    return None


@pytest.fixture(scope="session")
def database_url() -> str:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    error = asyncio.run(_can_connect(url))
    if error is not None and "DATABASE_URL" not in os.environ:
        _start("postgres.sh")
        error = asyncio.run(_can_connect(url))
    if error is not None:
        unavailable("PostgreSQL", error)
    return url


@pytest.fixture
async def fresh_database(database_url: str) -> AsyncIterator[str]:
    """A database of its own for one test, dropped afterwards."""
    name = f"wagate_t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield database_url.rsplit("/", 1)[0] + f"/{name}"
        await _drop(admin, name)
    finally:
        await admin.close()


async def _drop(admin: asyncpg.Connection, name: str) -> None:
    """Drop a test database; an autovacuum worker (the superuser's, which FORCE may not end)
    can hold it for a moment, so try again briefly."""
    for attempt in range(50):
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
            if attempt == 49:
                raise
            await asyncio.sleep(0.2)


@pytest.fixture
async def kafka_settings(kafka_bootstrap: str) -> AsyncIterator[KafkaSettings]:
    """Settings whose topics are this test's own (a unique prefix), created and then deleted."""
    settings = KafkaSettings(
        bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        client_id="wagate-test",
    )
    await ensure_topics(settings, ALL_TOPICS)
    yield settings
    await delete_topics(kafka_bootstrap, settings.topic_prefix)


async def delete_topics(bootstrap: str, prefix: str) -> None:
    """Delete every topic whose name starts with `prefix` (a test's own, and the changelogs of
    a faust app it ran), so the broker does not grow a topic set run after run."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


@pytest.fixture(autouse=True)
def _no_leftovers() -> Iterator[None]:
    """Fail a test that leaves threads running or the environment changed."""

    def environment() -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}

    env = environment()
    threads = set(threading.enumerate())
    yield
    assert environment() == env, "the test changed os.environ"
    extra = [t for t in set(threading.enumerate()) - threads if t.is_alive() and not t.daemon]
    assert not extra, f"the test left threads running: {extra}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
