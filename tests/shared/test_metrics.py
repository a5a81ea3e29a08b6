"""Every service's registry has the metrics every exporter has (process, platform, GC) and
`wagate_build_info`, shown on the service's /metrics page."""

from __future__ import annotations

import platform
import re
from collections.abc import AsyncIterator
from importlib import metadata

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import generate_latest

from services.sandbox.app import build_app
from services.sandbox.handlers import Sandbox
from services.sandbox.ids import Ids
from services.sandbox.settings import SandboxSettings
from services.sandbox.webhook_sender import WebhookSender
from services.sandbox.world import World
from shared import http
from shared.events.envelope import utcnow
from shared.metrics import REVISION_VARIABLE, build, new_registry
from tests.conftest import ROOT


@pytest.fixture
async def metrics_page() -> AsyncIterator[str]:
    """The sandbox's /metrics, its app built as the service builds it."""
    settings = SandboxSettings()
    async with aiohttp.ClientSession() as session:
        sender = WebhookSender(session, "", "secret", 1.0)
        sandbox = Sandbox(settings, World(), sender, utcnow, Ids(1))
        app = build_app(sandbox, sender, http.Readiness({"http": True}))
        async with TestClient(TestServer(app)) as client:
            resp = await client.get("/metrics")
            assert resp.status == 200
            yield await resp.text()
        await sandbox.close()


def _sample(page: str, name: str) -> list[str]:
    return re.findall(rf"^{name}(?:{{.*}})? (\S+)$", page, re.MULTILINE)


@pytest.mark.parametrize(
    "name",
    [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_open_fds",
        "python_info",
        "python_gc_collections_total",
    ],
)
def test_the_page_has_the_process_and_platform_metrics(metrics_page: str, name: str) -> None:
    assert _sample(metrics_page, name), f"{name} missing"


def test_the_page_says_which_build_runs(metrics_page: str) -> None:
    [labels] = re.findall(r"^wagate_build_info\{(.*)\} 1\.0$", metrics_page, re.MULTILINE)
    shown = dict(re.findall(r'(\w+)="([^"]*)"', labels))
    assert shown == {
        "version": metadata.version("wagate"),
        "revision": build()[1],
        "python": platform.python_version(),
    }


@pytest.mark.parametrize(("value", "shown"), [("3f2a9c1", "3f2a9c1"), ("", "unknown")])
def test_the_revision_is_the_one_the_image_was_built_from(
    monkeypatch: pytest.MonkeyPatch, value: str, shown: str
) -> None:
    monkeypatch.setenv(REVISION_VARIABLE, value)
    page = generate_latest(new_registry()).decode()
    assert f'revision="{shown}"' in page


def test_without_a_revision_it_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(REVISION_VARIABLE, raising=False)
    assert build()[1] == "unknown"


def test_each_registry_is_its_own() -> None:
    """Two registries in one process (a test, a benchmark) never collide."""
    first, second = new_registry(), new_registry()
    assert first.get_sample_value("wagate_build_info", build_labels()) == 1.0
    assert second.get_sample_value("wagate_build_info", build_labels()) == 1.0


def build_labels() -> dict[str, str]:
    version, revision = build()
    return {"version": version, "revision": revision, "python": platform.python_version()}


def test_the_image_takes_the_revision_from_its_build_argument() -> None:
    runtime_stage = (ROOT / "Dockerfile").read_text().rsplit("\nFROM ", 1)[1]
    lines = runtime_stage.splitlines()
    assert f"ARG {REVISION_VARIABLE}=unknown" in lines
    assert f"ENV {REVISION_VARIABLE}=${{{REVISION_VARIABLE}}}" in lines
