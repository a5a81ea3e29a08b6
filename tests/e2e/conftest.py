"""The wired system: the five services as real processes over real Kafka and PostgreSQL,
on free ports and topics of their own."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from shared.events.consent import ConsentChanged
from shared.events.keys import conversation_key
from shared.messaging import Publisher, make_producer
from shared.settings import DEVELOPMENT_MODE, KafkaSettings
from shared.topics import CONSENT
from tests.conftest import ROOT, SEALING_KEY, delete_topics, free_port

SERVICES = ("sandbox", "ingest", "templates", "policy", "dispatch")


@dataclass
class System:
    kafka: KafkaSettings
    database_url: str
    ports: dict[str, int]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    spans: Path | None = None  # with the `traced` mark: each service's spans, <service>.jsonl

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, service: str) -> None:
        with (self.logs / f"{service}.log").open("ab") as log:
            self.processes[service] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self, service: str) -> None:
        """SIGKILL: no graceful shutdown, no final commit."""
        proc = self.processes[service]
        proc.kill()
        proc.wait()

    async def restart_killed(self, service: str) -> None:
        self.kill(service)
        self.start(service)
        await _wait_ready(self, service, time.monotonic() + 240)

    async def customer_writes(self, phone_number_id: str, wa_id: str, text: str) -> str:
        """A customer writes to the business number (through the sandbox); its wamid."""
        message = {"phone_number_id": phone_number_id, "from": wa_id, "text": text}
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url('sandbox')}/sandbox/customer-messages", json=message) as resp,
        ):
            assert resp.status == 200, await resp.text()
            return str((await resp.json())["id"])

    async def opted_in(self, phone_number_id: str, *given: tuple[str, str]) -> None:
        """The business records each (customer, category) opt-in, a day old, on the consent
        topic (every template category needs one by default)."""
        producer = make_producer(self.kafka, "e2e")
        await producer.start()
        try:
            publisher = Publisher(producer, self.kafka)
            for customer, category in given:
                opt_in = ConsentChanged(
                    customer=customer,
                    phone_number_id=phone_number_id,
                    category=category,
                    opted_in=True,
                    source="crm:signup-form",
                    occurred_at=datetime.now(UTC) - timedelta(days=1),
                )
                await publisher.publish(
                    CONSENT, opt_in, conversation_key(phone_number_id, customer)
                )
        finally:
            await producer.stop()

    def log_tail(self, service: str, lines: int = 40) -> str:
        text = (self.logs / f"{service}.log").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _env(system: System, run_id: str, tmp: Path) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("INGEST_", "POLICY_", "DISPATCH_", "TEMPLATES_", "SANDBOX_", "CONSOLE_")
        )
    }
    # development mode: the public development secrets are accepted; the sealing keys are
    # the tests' own, since the source has none
    env = {**base, "PYTHONUNBUFFERED": "1", DEVELOPMENT_MODE: "true"}
    env["POLICY_SEALING_KEYS"] = env["DISPATCH_SEALING_KEYS"] = json.dumps(
        [SEALING_KEY.get_secret_value()]
    )
    for svc in SERVICES:
        prefix = svc.upper()
        env[f"{prefix}_HTTP__PORT"] = str(system.ports[svc])
        env[f"{prefix}_LOG__JSON_FORMAT"] = "true"
        if svc != "sandbox":
            env[f"{prefix}_KAFKA__BOOTSTRAP"] = system.kafka.bootstrap
            env[f"{prefix}_KAFKA__TOPIC_PREFIX"] = system.kafka.topic_prefix
    env["SANDBOX_WEBHOOK_URL"] = f"{system.url('ingest')}/webhook"
    env["SANDBOX_STATUS_DELAY_S"] = "0.01"
    env["POLICY_APP_ID"] = f"wagate-policy-{run_id}"
    env["POLICY_DATA_DIR"] = str(tmp / "policy")
    env["DISPATCH_GROUP"] = f"wagate-dispatch-{run_id}"
    env["DISPATCH_CLOUD_API__BASE_URL"] = system.url("sandbox")
    # short enough that fault tests settle unknown outcomes and retries within a test
    env["DISPATCH_CLOUD_API__READ_TIMEOUT_S"] = "3"
    env["DISPATCH_SETTLE__UNKNOWN_WAIT_S"] = "12"
    env["DISPATCH_SETTLE__INTERVAL_S"] = "1"
    env["DISPATCH_RETRY__BASE_S"] = "0.2"
    env["DISPATCH_RETRY__CAP_S"] = "2"
    env["DISPATCH_POSTGRES__URL"] = system.database_url
    env["DISPATCH_MEDIA__INBOUND_GROUP"] = f"wagate-dispatch-media-{run_id}"
    env["DISPATCH_MEDIA__OUTBOUND_DIR"] = str(tmp / "media" / "outbound")
    env["DISPATCH_MEDIA__INBOUND_DIR"] = str(tmp / "media" / "inbound")
    env["DISPATCH_MEDIA__API_KEYS"] = '["wagate-dev-key"]'
    env["DISPATCH_MEDIA__FETCH_BACKOFF_S"] = "0.2"
    env["TEMPLATES_POSTGRES__URL"] = system.database_url
    env["INGEST_POSTGRES__URL"] = system.database_url
    env["TEMPLATES_CLOUD_API__BASE_URL"] = system.url("sandbox")
    env["TEMPLATES_GROUP"] = f"wagate-templates-{run_id}"
    return env


async def _wait_ready(system: System, service: str, deadline: float) -> None:
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            proc = system.processes[service]
            if proc.poll() is not None:
                pytest.fail(f"{service} exited with {proc.returncode}:\n{system.log_tail(service)}")
            try:
                async with session.get(f"{system.url(service)}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)
    pytest.fail(f"{service} not ready in time:\n{system.log_tail(service)}")


async def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> dict[str, int]:
    """SIGTERM to every service at once, their exit codes awaited without blocking the loop
    (a test's forwarders to Kafka and PostgreSQL run in it); SIGKILL past 30 s."""
    for proc in processes.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)  # a test may have left one stopped
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    while any(p.poll() is None for p in processes.values()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    for proc in processes.values():
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return {svc: proc.returncode for svc, proc in processes.items()}


@pytest.fixture
def system_env() -> dict[str, str]:
    """Settings a test module gives its services beyond the defaults (override it there)."""
    return {}


@pytest.fixture
async def system(
    kafka_settings: KafkaSettings,
    fresh_database: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    system_env: dict[str, str],
) -> AsyncIterator[System]:
    """The five services; a test module asks for more settings by overriding `system_env`."""
    run_id = uuid.uuid4().hex[:8]
    system = System(
        kafka_settings, fresh_database, {s: free_port() for s in SERVICES}, tmp_path / "logs"
    )
    system.logs.mkdir()
    system.env = _env(system, run_id, tmp_path)
    if request.node.get_closest_marker("traced"):
        system.spans = tmp_path / "spans"
        system.spans.mkdir()
        for svc in SERVICES:
            system.env[f"{svc.upper()}_TRACING__FILE"] = str(system.spans / f"{svc}.jsonl")
    system.env.update(system_env)
    try:
        for svc in SERVICES:
            system.start(svc)
        deadline = time.monotonic() + 240  # generous: CI machines are small
        for svc in SERVICES:
            await _wait_ready(system, svc, deadline)
        yield system
    finally:
        codes = await _stop(system.processes)
        await delete_topics(system.kafka.bootstrap, f"{system.env['POLICY_APP_ID']}-")
    bad = {svc: code for svc, code in codes.items() if code != 0}
    assert not bad, f"services did not stop cleanly: {bad}\n" + "\n".join(
        f"--- {svc}\n{system.log_tail(svc)}" for svc in bad
    )
