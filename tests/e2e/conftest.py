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
from pathlib import Path

import aiohttp
import pytest

from shared.settings import DEVELOPMENT_MODE, KafkaSettings
from tests.conftest import ROOT, SEALING_KEY, free_port

SERVICES = ("sandbox", "ingest", "templates", "policy", "dispatch")


@dataclass
class System:
    kafka: KafkaSettings
    database_url: str
    ports: dict[str, int]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

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

    def log_tail(self, service: str, lines: int = 40) -> str:
        text = (self.logs / f"{service}.log").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def _env(system: System, run_id: str, tmp: Path) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("INGEST_", "POLICY_", "DISPATCH_", "TEMPLATES_", "SANDBOX_"))
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


def _stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


@pytest.fixture
async def system(
    request: pytest.FixtureRequest,
    kafka_settings: KafkaSettings,
    fresh_database: str,
    tmp_path: Path,
) -> AsyncIterator[System]:
    """The five services; a test may ask for more settings with
    `@pytest.mark.parametrize("system", [{"LOG__LEVEL": "DEBUG"}], indirect=True)`
    (each given to every service, under its prefix)."""
    run_id = uuid.uuid4().hex[:8]
    system = System(
        kafka_settings, fresh_database, {s: free_port() for s in SERVICES}, tmp_path / "logs"
    )
    system.logs.mkdir()
    system.env = _env(system, run_id, tmp_path)
    for name, value in getattr(request, "param", {}).items():
        system.env.update({f"{svc.upper()}_{name}": value for svc in SERVICES})
    try:
        for svc in SERVICES:
            system.start(svc)
        deadline = time.monotonic() + 240  # generous: CI machines are small
        for svc in SERVICES:
            await _wait_ready(system, svc, deadline)
        yield system
    finally:
        codes = {svc: _stop(proc) for svc, proc in system.processes.items()}
    bad = {svc: code for svc, code in codes.items() if code != 0}
    assert not bad, f"services did not stop cleanly: {bad}\n" + "\n".join(
        f"--- {svc}\n{system.log_tail(svc)}" for svc in bad
    )
