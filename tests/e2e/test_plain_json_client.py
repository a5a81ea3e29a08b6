"""A client in no particular language: Kafka's own console producer (Java) writes the
contract's example intent as a plain JSON line, and wagate decides and reports on it."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import uuid

import pytest

from shared.client import WagateClient
from tests.conftest import ROOT
from tests.e2e.conftest import System

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
LIBS = ROOT / ".local" / "kafka" / "libs"


def _contract_intent() -> dict[str, object]:
    text = (ROOT / "docs" / "contract.md").read_text()
    block = re.search(r"<!-- example: wagate.intents.v1 -->\n```json\n(.*?)\n```", text, re.S)
    assert block is not None
    body: dict[str, object] = json.loads(block.group(1))
    return body


async def test_a_json_line_from_the_console_producer_is_decided(system: System) -> None:
    if not LIBS.is_dir():
        pytest.fail(f"Kafka's jars are missing from {LIBS}: run `make setup`")
    intent = _contract_intent()
    intent["intent_id"] = f"console-{uuid.uuid4()}"
    key = f"{intent['phone_number_id']}:16505551234"
    line = f"{key}|{json.dumps(intent)}\n"
    async with (
        WagateClient(system.kafka) as client,
        client.follow([str(intent["intent_id"])]) as updates,
    ):
        subprocess.run(
            [
                "java",
                "-cp",
                f"{LIBS}/*",
                "kafka.tools.ConsoleProducer",
                "--bootstrap-server",
                system.kafka.bootstrap,
                "--topic",
                system.kafka.topic("wagate.intents.v1"),
                "--property",
                "parse.key=true",
                "--property",
                "key.separator=|",
            ],
            input=line.encode(),
            check=True,
            timeout=120,
            capture_output=True,
            env={
                **os.environ,
                "KAFKA_LOG4J_OPTS": "-Dlog4j.configuration=file:"
                f"{ROOT}/deploy/local/tools-log4j.properties",
            },
        )
        async with asyncio.timeout(120):
            update = await anext(aiter(updates))
    # No template state is known for `order_shipped` in this system: policy says so.
    assert update.intent_id == intent["intent_id"]
    assert update.state == "rejected" and update.reasons == ["TEMPLATE_UNKNOWN"]
    assert update.metadata == {"order_id": "860198"}
