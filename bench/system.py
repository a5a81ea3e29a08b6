"""The services as real processes for the benchmark: the end-to-end tests' System (free ports,
topics under a prefix of their own, a scratch database), started outside pytest and cleaned up
afterwards (processes stopped, topics and the policy app's changelogs deleted, database
dropped)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import asyncpg

from shared.messaging import ensure_topics
from shared.settings import KafkaSettings
from shared.topics import ALL_TOPICS
from tests.conftest import _drop, delete_topics, free_port
from tests.e2e.conftest import SERVICES, System, _env, _stop, _wait_ready


@asynccontextmanager
async def scratch_database(url: str) -> AsyncIterator[str]:
    """A database of its own on the server of `url`, dropped afterwards."""
    name = f"wagate_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield url.rsplit("/", 1)[0] + f"/{name}"
        finally:
            await _drop(admin, name)
    finally:
        await admin.close()


@asynccontextmanager
async def running(
    bootstrap: str, database_url: str, services: Sequence[str], env: Mapping[str, str]
) -> AsyncIterator[System]:
    """`services` (a subset of SERVICES, started in that order) wired as in the e2e tests."""
    run_id = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(
        bootstrap=bootstrap, topic_prefix=f"bench{run_id}.", client_id="wagate-bench"
    )
    await ensure_topics(kafka, ALL_TOPICS)
    tmp = Path(tempfile.mkdtemp(prefix="wagate-bench-"))
    try:
        async with scratch_database(database_url) as database:
            system = System(kafka, database, {s: free_port() for s in SERVICES}, tmp / "logs")
            system.logs.mkdir()
            system.env = {**_env(system, run_id, tmp), **env}
            try:
                for service in services:
                    system.start(service)
                deadline = time.monotonic() + 240
                for service in services:
                    await _wait_ready(system, service, deadline)
                yield system
            finally:
                await _stop(system.processes)
    finally:
        await delete_topics(bootstrap, kafka.topic_prefix)
        await delete_topics(bootstrap, f"wagate-policy-{run_id}-")
        shutil.rmtree(tmp, ignore_errors=True)


async def metric(system: System, service: str, name: str) -> float:
    """The sum of a Prometheus counter's samples on the service's /metrics."""
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{system.url(service)}/metrics") as resp,
    ):
        text = await resp.text()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and line[len(name) : len(name) + 1] in ("{", " ")
    )


async def until_metric(
    system: System, service: str, name: str, at_least: float, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while await metric(system, service, name) < at_least:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{service}'s {name} stayed below {at_least}")
        await asyncio.sleep(0.2)
