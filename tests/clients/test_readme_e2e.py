"""The client README's snippet, run as a script in the client's own virtualenv against the
wired system: a customer writes, the snippet's reply is accepted, sent and delivered, each
update printed as it arrives."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import aiohttp
import pytest

from tests.clients.conftest import CLIENT
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def readme_snippet(path: Path, section: str) -> str:
    """The first ```python block under the heading `section` of `path`."""
    text = path.read_text()
    after = text[text.index(section) :]
    match = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert match, f"no python block under {section!r} in {path}"
    return match.group(1)


async def test_the_readme_snippet_sends_and_follows_an_intent(
    system: System, client_python: Path
) -> None:
    code = readme_snippet(CLIENT / "README.md", "## Send a message and follow it")
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{system.url('sandbox')}/sandbox/customer-messages",
            json={"phone_number_id": PHONE_NUMBER_ID, "from": "16505551234", "text": "Shipped?"},
        ) as resp,
    ):
        assert resp.status == 200
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 1)

    env = {
        "PATH": os.environ.get("PATH", ""),
        "WAGATE_KAFKA__BOOTSTRAP": system.kafka.bootstrap,
        "WAGATE_KAFKA__TOPIC_PREFIX": system.kafka.topic_prefix,
    }
    script = await asyncio.create_subprocess_exec(
        str(client_python),
        "-c",
        code,
        env=env,
        cwd=client_python.parent,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(script.communicate(), 120)

    assert script.returncode == 0, err.decode()
    assert out.decode().split() == ["accepted", "sent", "delivered"]
