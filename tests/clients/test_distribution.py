"""The wagate-client distribution: its own namespaced package, only the dependencies a
client needs, importable and usable in a virtualenv that has nothing of the server."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.clients.conftest import CLIENT, wheel_metadata
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(600)

ROUND_TRIP = r"""
import importlib.util, json, sys
from wagate_client import OutboundIntentSubmitted, TemplateContent, WagateClient, codec
from wagate_client.events.delivery import DeliveryUpdated
from wagate_client.topics import DELIVERY, INTENTS

intent = OutboundIntentSubmitted(
    intent_id="order-42",
    phone_number_id="106540352242922",
    to="+1 650 555 1234",
    content=TemplateContent(name="shipping_update", language="en_US"),
    metadata={"order": "42"},
)
back = codec.decode(OutboundIntentSubmitted, codec.encode(intent))
update = codec.decode(DeliveryUpdated, json.dumps(
    {"intent_id": "order-42", "phone_number_id": "1", "to": "2", "state": "delivered",
     "future_field": "ignored"}).encode())
absent = ["shared", "services", "cli", "faust", "asyncpg", "honcho", "structlog", "aiohttp"]
print(json.dumps({
    "equal": back == intent,
    "terminal": update.terminal,
    "topics": [INTENTS.name, DELIVERY.name],
    "client": WagateClient.__module__,
    "importable": [m for m in absent if importlib.util.find_spec(m) is not None],
    "loaded": sorted({m.split(".")[0] for m in sys.modules} & set(absent)),
}))
"""


def test_the_wheel_holds_one_namespaced_package_and_needs_only_aiokafka_pydantic_puremagic(
    client_wheel: Path,
) -> None:
    with zipfile.ZipFile(client_wheel) as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
        names = set(archive.namelist())
    assert tops == {"wagate_client", client_wheel.name.split("-py3")[0] + ".dist-info"}
    assert {"wagate_client/py.typed", "wagate_client/events/intents.py"} <= names
    fields = wheel_metadata(client_wheel)
    assert fields["Name"] == ["wagate-client"]
    required = sorted(r.split(">")[0].split("<")[0].strip() for r in fields["Requires-Dist"])
    assert required == ["aiokafka", "puremagic", "pydantic"]  # puremagic: checking media


def test_installed_alone_it_imports_and_round_trips_the_contract(client_python: Path) -> None:
    run = subprocess.run(
        [str(client_python), "-c", ROUND_TRIP],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=client_python.parent,  # not the checkout: nothing of the server on the path
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out == {
        "equal": True,
        "terminal": True,
        "topics": ["wagate.intents.v1", "wagate.delivery.v1"],
        "client": "wagate_client.client",
        "importable": [],
        "loaded": [],
    }


def test_the_generated_contract_is_in_step_with_shared() -> None:
    check = subprocess.run(
        [sys.executable, str(CLIENT / "generate.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def _copy(tmp_path: Path) -> Path:
    """The parts of the checkout the generator reads and writes."""
    for part in ("shared", "clients/python/src"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "clients/python/pyproject.toml", "clients/python/generate.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _generate(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(copy / "clients/python/generate.py"), *args]
    return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)


def test_a_change_to_the_models_fails_the_check_until_regenerated(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    intents = copy / "shared/events/intents.py"
    intents.write_text(intents.read_text() + "\n\nCHANGED = True\n")
    generated = "clients/python/src/wagate_client/events/intents.py"

    check = _generate(copy, "--check")
    assert check.returncode == 1 and generated in check.stderr

    assert _generate(copy).returncode == 0
    assert _generate(copy, "--check").returncode == 0
    assert "CHANGED = True" in (copy / generated).read_text()


@pytest.mark.parametrize(
    ("path", "line", "said"),
    [
        ("shared/client.py", "from shared import logs\n", "shared.logs"),
        ("shared/client.py", "from shared.messaging import Publisher\n", "Publisher"),
        ("shared/codec.py", "import shared.errors\n", "not supported"),
    ],
)
def test_an_import_the_client_cannot_carry_is_refused(
    tmp_path: Path, path: str, line: str, said: str
) -> None:
    copy = _copy(tmp_path)
    source = copy / path
    text = source.read_text()
    cut = text.index("\nfrom shared") + 1
    source.write_text(text[:cut] + line + text[cut:])

    check = _generate(copy, "--check")
    assert check.returncode == 1
    assert "cannot be generated" in check.stderr and said in check.stderr
