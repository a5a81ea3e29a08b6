"""The contract's worked example, run as a real business system against the wired system."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys

import aiohttp
import pytest

from shared.client import WagateClient
from tests.conftest import ROOT
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


async def test_the_example_answers_a_customer_inside_the_window(system: System) -> None:
    example = subprocess.Popen(
        [
            sys.executable,
            "examples/order_notifications.py",
            "--bootstrap",
            system.kafka.bootstrap,
            "--topic-prefix",
            system.kafka.topic_prefix,
            "answer",
            "--from",
            PHONE_NUMBER_ID,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        async with WagateClient(system.kafka) as client, client.follow() as updates:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{system.url('sandbox')}/sandbox/customer-messages",
                    json={
                        "phone_number_id": PHONE_NUMBER_ID,
                        "from": "16505550777",
                        "text": "Where is my parcel?",
                        "name": "Ana",
                    },
                ) as resp,
            ):
                wamid = (await resp.json())["id"]
            states: list[str] = []
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(120):
                    async for update in updates:
                        if update.intent_id == f"answer-{wamid}":
                            states.append(update.state)
                            if update.terminal:
                                break
    finally:
        example.terminate()
        output = example.communicate(timeout=30)[0].decode()
    logs = "\n".join(f"--- {s}\n{system.log_tail(s, 15)}" for s in ("policy", "dispatch"))
    assert states and states[0] == "accepted", f"{states}\n{output}\n{logs}"
    assert states[-1] == "delivered", states
    assert f"answered {wamid}" in output
