"""Dispatch's resend endpoint, as `wagate intents resend ID` calls it (over the in-memory
shell): an unknown send goes once more and the ledger records who asked; any other state is refused
with a clear error and a failing exit code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from click.testing import CliRunner, Result

from cli.intents_cmd import intents
from services.dispatch.app import resend_handler
from tests.conftest import free_port
from tests.services.dispatch.conftest import Shell, approved


@pytest.fixture
async def dispatch_url(shell: Shell) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/intents/{intent_id}/resend", resend_handler(shell.dispatch))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def _wagate(url: str, *args: str) -> Result:
    return await asyncio.to_thread(
        CliRunner().invoke, intents, ["--dispatch-url", url, *args], catch_exceptions=False
    )


async def test_an_unknown_send_is_resent_once_when_asked(shell: Shell, dispatch_url: str) -> None:
    shell.api.script("lost", TimeoutError("no answer"))
    await shell.decide(approved("lost"))
    await shell.wait_for(lambda: shell.states("lost") == ["unknown"])
    done = await _wagate(dispatch_url, "resend", "lost", "--by", "ops@example")
    assert done.exit_code == 0, done.output
    assert '"state": "queued"' in done.output
    await shell.wait_for(lambda: shell.states("lost") == ["unknown", "accepted"])
    assert len([p for _, p in shell.api.sent if p["biz_opaque_callback_data"] == "lost"]) == 2
    assert shell.ledger.resends == [("lost", "ops@example", "unknown")]
    again = await _wagate(dispatch_url, "resend", "lost", "--by", "ops@example")
    assert again.exit_code == 1 and "accepted" in again.output  # it went: nothing to resend


async def test_an_unknown_intent_or_a_missing_asker_is_refused(
    shell: Shell, dispatch_url: str
) -> None:
    missing = await _wagate(dispatch_url, "resend", "nobody")
    assert missing.exit_code == 1 and "no intent nobody" in missing.output
    long = await _wagate(dispatch_url, "resend", "nobody", "--by", "x" * 201)
    assert long.exit_code == 2 and "requested_by" in long.output
    assert shell.ledger.resends == []


async def test_dispatch_out_of_reach_exits_unavailable() -> None:
    result = await _wagate(f"http://127.0.0.1:{free_port()}", "resend", "x", "--by", "me")
    assert result.exit_code == 69 and "dispatch is unreachable" in result.output
