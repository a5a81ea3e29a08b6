"""Services started before Kafka or PostgreSQL, and losing them while they run, as processes
behind a forwarder (`tests.e2e.proxy`) that the test opens, cuts and restores: a service waits
(its /readyz 503, a log line naming what it waits for) instead of exiting, and is ready once
both answer (ingest, dispatch, the console, the templates service; policy needs Kafka only);
a SIGTERM while it waits exits 0; ingest answers webhooks 503 at once while Kafka is gone, so
Meta redelivers; and a SIGTERM while a webhook is being received finishes it: answered 200,
journaled once."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from shared import webhook_signature
from shared.settings import KafkaSettings
from shared.topics import WEBHOOKS_RAW
from tests.conftest import free_port
from tests.e2e.conftest import SERVICES, System, _env
from tests.e2e.proxy import Proxy
from tests.services.ingest.topics import read_all

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
SECRET = "sandbox-app-secret"  # ingest's development default


@dataclass
class Behind:
    """One service as a process, reaching Kafka and PostgreSQL only through `kafka`, `pg`."""

    system: System
    kafka: Proxy
    pg: Proxy

    def url(self, service: str) -> str:
        return self.system.url(service)


@pytest.fixture
async def behind(
    kafka_settings: KafkaSettings, fresh_database: str, tmp_path: Path
) -> AsyncIterator[Behind]:
    pg_address = fresh_database.split("@", 1)[1].split("/", 1)[0]
    kafka, pg = Proxy.to(kafka_settings.bootstrap, kafka=True), Proxy.to(pg_address)
    through = kafka_settings.model_copy(update={"bootstrap": kafka.address})
    system = System(
        through, fresh_database.replace(pg_address, pg.address),
        {s: free_port() for s in SERVICES}, tmp_path / "logs",
    )  # fmt: skip
    system.logs.mkdir()
    system.env = _env(system, "late", tmp_path)
    system.env["INGEST_PUBLISH_TIMEOUT_S"] = "5"
    system.env["INGEST_DEDUPE_LEASE_S"] = "10"
    try:
        yield Behind(system, kafka, pg)
    finally:
        for proc in system.processes.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await kafka.close()
        await pg.close()


def _webhook(text: str) -> bytes:
    message = {"from": "16505550100", "id": f"wamid.{text}", "timestamp": str(int(time.time())),
               "type": "text", "text": {"body": text}}  # fmt: skip
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550001", "phone_number_id": "106540352242922"},
             "contacts": [{"wa_id": "16505550100", "profile": {"name": "A"}}],
             "messages": [message]}  # fmt: skip
    change = {"field": "messages", "value": value}
    body = {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [change]}]}  # fmt: skip
    return json.dumps(body).encode()


async def _post_webhook(session: aiohttp.ClientSession, url: str, body: bytes) -> int:
    headers = {webhook_signature.HEADER: webhook_signature.sign(body, SECRET),
               "Content-Type": "application/json"}  # fmt: skip
    async with session.post(f"{url}/webhook", data=body, headers=headers) as resp:
        return resp.status


async def _ready(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, object]]:
    try:
        async with session.get(f"{url}/readyz") as resp:
            return resp.status, await resp.json()
    except aiohttp.ClientError:
        return 0, {}


async def _until(what: str, check: Callable[[], Awaitable[bool]], within_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within_s:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.2)
    pytest.fail(f"not within {within_s} s: {what}")


def _logged(system: System, service: str, event: str) -> bool:
    lines = (system.logs / f"{service}.log").read_text(errors="replace").splitlines()
    return any(f'"event": "{event}"' in line or f'"event":"{event}"' in line for line in lines)


async def _sigterm(system: System, service: str) -> int | None:
    system.processes[service].send_signal(signal.SIGTERM)
    return await _exited(system, service)


async def _exited(system: System, service: str, within_s: float = 30) -> int | None:
    """The exit code, waited for without blocking the loop the forwarders run in."""
    proc = system.processes[service]
    deadline = time.monotonic() + within_s
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return proc.poll()


async def test_ingest_started_before_kafka_and_postgres_waits_then_serves(
    behind: Behind,
) -> None:
    system = behind.system
    url = behind.url("ingest")
    async with aiohttp.ClientSession() as session:
        assert await _started_waiting(session, system, "ingest") == {
            "kafka": False, "postgres": False
        }  # fmt: skip
        assert await _post_webhook(session, url, _webhook("early")) == 503  # Meta redelivers
        await asyncio.sleep(2)
        assert system.processes["ingest"].poll() is None, system.log_tail("ingest")

        await behind.pg.open()
        await _until(
            "ingest waiting for Kafka", lambda: _waiting(session, system, "ingest", "Kafka"), 30
        )
        assert (await _ready(session, url))[0] == 503
        await behind.kafka.open()
        await _until("ingest ready", lambda: _is_ready(session, url), 60)
        assert await _post_webhook(session, url, _webhook("first")) == 200

        # Kafka gone while ingest runs: webhooks are refused at once, then taken again
        await behind.kafka.cut()
        await _until("ingest refusing webhooks", lambda: _refuses(session, url), 15)
        started = time.monotonic()
        assert await _post_webhook(session, url, _webhook("while-gone")) == 503
        assert time.monotonic() - started < 1.0  # at once, not after the publish timeout
        assert (await _ready(session, url))[0] == 503
        await behind.kafka.open()
        await _until("ingest taking webhooks again", lambda: _takes(session, url), 60)
    assert await _sigterm(system, "ingest") == 0
    journaled = [r["body"] for r in await read_all(system.kafka, WEBHOOKS_RAW)]
    assert any("wamid.first" in b for b in journaled)
    assert not any("wamid.while-gone" in b for b in journaled)


async def test_dispatch_started_before_postgres_waits_then_gets_ready(behind: Behind) -> None:
    system = behind.system
    await behind.kafka.open()
    url = behind.url("dispatch")
    async with aiohttp.ClientSession() as session:
        checks = await _started_waiting(session, system, "dispatch")
        assert checks == {"postgres": False, "kafka": False}
        await behind.pg.open()
        await _until("dispatch ready", lambda: _is_ready(session, url), 90)
    assert await _sigterm(system, "dispatch") == 0


@pytest.mark.parametrize("service", ["console", "templates"])
async def test_started_before_postgres_and_kafka_waits_and_gets_ready_or_stops(
    behind: Behind, service: str
) -> None:
    system = behind.system
    system.ports["console"] = free_port()
    system.env.update(
        CONSOLE_HTTP__PORT=str(system.ports["console"]), CONSOLE_LOG__JSON_FORMAT="true",
        CONSOLE_KAFKA__BOOTSTRAP=system.kafka.bootstrap,
        CONSOLE_KAFKA__TOPIC_PREFIX=system.kafka.topic_prefix,
        CONSOLE_POSTGRES__URL=system.database_url, CONSOLE_GROUP="wagate-console-late",
    )  # fmt: skip
    url = behind.url(service)
    async with aiohttp.ClientSession() as session:
        checks = await _started_waiting(session, system, service)
        assert checks == {"postgres": False, "kafka": False}
        async with session.get(f"{url}/templates") as resp:  # any request but the probes
            assert resp.status == 503 and int(resp.headers["Retry-After"]) > 0
        assert await _sigterm(system, service) == 0  # stopped while it waits
        assert _logged(system, service, "stopped before it started")

        system.start(service)  # again; this time PostgreSQL answers first, then Kafka
        await behind.pg.open()
        waits = lambda: _waiting(session, system, service, "Kafka")  # noqa: E731
        await _until(f"{service} waiting for Kafka", waits, 60)
        assert (await _ready(session, url))[0] == 503
        await behind.kafka.open()
        await _until(f"{service} ready", lambda: _is_ready(session, url), 90)
    assert await _sigterm(system, service) == 0


async def test_policy_started_before_kafka_waits_then_gets_ready_or_stops(behind: Behind) -> None:
    system = behind.system
    url = behind.url("policy")
    waits = lambda: _waiting(session, system, "policy", "Kafka")  # noqa: E731
    async with aiohttp.ClientSession() as session:
        system.start("policy")
        await _until("policy waiting for Kafka", waits, 60)
        status, body = await _ready(session, url)
        assert (status, body["checks"]) == (503, {"kafka": False})
        async with session.get(f"{url}/windows") as resp:
            assert resp.status == 503 and int(resp.headers["Retry-After"]) > 0
        assert await _sigterm(system, "policy") == 0
        assert _logged(system, "policy", "stopped before it started")

        system.start("policy")
        await _until("policy waiting for Kafka again", waits, 60)
        await behind.kafka.open()
        await _until("policy ready", lambda: _is_ready(session, url), 120)
    assert await _sigterm(system, "policy") == 0


async def test_sigterm_while_a_webhook_is_received_finishes_it(behind: Behind) -> None:
    system = behind.system
    await behind.kafka.open()
    await behind.pg.open()
    system.start("ingest")
    url = behind.url("ingest")
    body = _webhook("in-flight")
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield body[:40]
        await release.wait()  # the rest comes after SIGTERM
        yield body[40:]

    async with aiohttp.ClientSession() as session:
        await _until("ingest ready", lambda: _is_ready(session, url), 90)
        headers = {webhook_signature.HEADER: webhook_signature.sign(body, SECRET),
                   "Content-Type": "application/json"}  # fmt: skip
        posting = asyncio.create_task(
            session.post(f"{url}/webhook", data=slow_body(), headers=headers)
        )
        await asyncio.sleep(1.0)  # the request's headers are in; its body is not
        system.processes["ingest"].send_signal(signal.SIGTERM)
        await _until("ingest draining", lambda: _said(system, "ingest", "draining"), 10)
        await asyncio.sleep(0.5)
        brief = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=brief) as fresh:  # no new work once draining
            with pytest.raises(aiohttp.ClientConnectionError):
                await _post_webhook(fresh, url, _webhook("too-late"))
        release.set()
        async with await posting as resp:
            assert resp.status == 200, await resp.text()
    assert await _exited(system, "ingest") == 0
    journaled = [r["body"] for r in await read_all(system.kafka, WEBHOOKS_RAW)]
    assert sum("wamid.in-flight" in b for b in journaled) == 1


async def _started_waiting(session: aiohttp.ClientSession, system: System, service: str) -> object:
    """Start `service` with PostgreSQL closed: once it says it waits, its /readyz is 503 and
    not ready; returns the checks it shows."""
    system.start(service)
    await _until(f"{service} waiting", lambda: _waiting(session, system, service, "PostgreSQL"), 60)
    status, body = await _ready(session, system.url(service))
    assert status == 503 and body["ready"] is False
    return body["checks"]


async def _waiting(session: aiohttp.ClientSession, system: System, service: str, what: str) -> bool:
    """The service logged that it waits for `what`, and answers /readyz meanwhile."""
    return (
        _logged(system, service, f"waiting for {what}")
        and (await _ready(session, system.url(service)))[0] != 0
    )


async def _said(system: System, service: str, event: str) -> bool:
    return _logged(system, service, event)


async def _is_ready(session: aiohttp.ClientSession, url: str) -> bool:
    return (await _ready(session, url))[0] == 200


async def _refuses(session: aiohttp.ClientSession, url: str) -> bool:
    return await _post_webhook(session, url, _webhook("probe")) == 503


async def _takes(session: aiohttp.ClientSession, url: str) -> bool:
    return await _post_webhook(session, url, _webhook("again")) == 200
