"""SIGTERM to dispatch while its sends are in flight (the sandbox takes each and answers seconds
later): dispatch stops taking new work, waits for the answers, records them, commits and exits
0 within its drain bound. Started again, it settles every intent once: all delivered, none
said unconfirmed (the answer was not lost), and the sandbox took each one exactly once.

SIGTERM to policy while intents stream in: its faust worker exits 0 within its drain bound, and
once a new policy starts every intent submitted, before or after the signal, has its decision."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import Counter

import aiohttp
import asyncpg
import pytest

from shared.client import WagateClient
from shared.topics import DECISIONS
from tests.chaos.replies import open_windows, replies, sandbox_json, submitted
from tests.chaos.tally import Tally
from tests.e2e.conftest import System, _wait_ready
from tests.services.ingest.topics import read_all

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
CUSTOMERS = [f"1650666{n:04d}" for n in range(6)]
ANSWER_AFTER_S = 4.0
DRAIN_S = 20
POLICY_DRAIN_S = 8


@pytest.fixture
def system_env() -> dict[str, str]:
    return {
        "DISPATCH_CLOUD_API__READ_TIMEOUT_S": "15",  # the late answers are waited for
        "DISPATCH_DRAIN_S": str(DRAIN_S),
        "POLICY_DRAIN_S": str(POLICY_DRAIN_S),
        # no status comes before dispatch has exited: what its ledger holds then, it recorded
        # from the answers themselves
        "SANDBOX_STATUS_DELAY_S": "10",
    }


async def test_sigterm_mid_send_loses_nothing_and_sends_nothing_twice(system: System) -> None:
    sandbox = system.url("sandbox")
    late = {"timeout_rate": 1.0, "timeout_s": ANSWER_AFTER_S, "seed": 7}
    await open_windows(system, CUSTOMERS, late)
    intents = replies("drain", CUSTOMERS)
    tally = Tally([i.intent_id for i in intents])
    async with submitted(system, intents) as (stream, session):
        await _until_taken(session, sandbox, len(intents))  # every send waits for its answer
        dispatch = system.processes["dispatch"]
        dispatch.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        while dispatch.poll() is None and time.monotonic() - stopped < DRAIN_S + 10:
            await asyncio.sleep(0.1)
        took = time.monotonic() - stopped
        assert dispatch.returncode == 0, system.log_tail("dispatch")
        assert ANSWER_AFTER_S - 1 <= took <= DRAIN_S, took  # waited for the answers, bounded
        assert await _ledger(system) == {i.intent_id: ("accepted", True) for i in intents}
        await sandbox_json(session, "PUT", f"{sandbox}/_sandbox/faults", json={})
        system.start("dispatch")
        await _wait_ready(system, "dispatch", time.monotonic() + 120)
        async with asyncio.timeout(90):
            async for update in stream:
                tally.add(update)
                if all(tally.ended(i) for i in tally.intents):
                    break
        messages = await sandbox_json(session, "GET", f"{sandbox}/_sandbox/messages")
    assert isinstance(messages, dict)
    accepted = Counter(m["callback"] for m in messages["sent"] if m["callback"] in tally.states)
    figures = tally.figures(accepted, 0)
    assert figures.get("outcome delivered") == len(intents), figures
    assert tally.unconfirmed == set(), "an answer was lost across the SIGTERM"
    assert (
        figures["sent twice"] == figures["webhook events doubled"] == figures["ended twice"] == 0
    ), figures
    assert sorted(accepted.values()) == [1] * len(intents)


async def test_sigterm_to_policy_mid_stream_exits_in_bound_and_loses_no_intent(
    system: System,
) -> None:
    # replies to customers who never wrote: each is decided (refused: no open window) without
    # a send, so the decisions topic alone shows what policy took
    intents = replies("policy-drain", [f"1650777{n:04d}" for n in range(120)])
    ids = {i.intent_id for i in intents}
    policy = system.processes["policy"]
    async with WagateClient(system.kafka) as client:
        for intent in intents[:60]:
            await client.send(intent)
        async with asyncio.timeout(60):
            while not await _decided(system) & ids:
                await asyncio.sleep(0.1)
        policy.send_signal(signal.SIGTERM)  # while the first half is being decided
        stopped = time.monotonic()
        for intent in intents[60:]:  # and the second half comes while it stops or is gone
            await client.send(intent)
        while policy.poll() is None and time.monotonic() - stopped < POLICY_DRAIN_S + 20:
            await asyncio.sleep(0.1)
    took = time.monotonic() - stopped
    assert policy.returncode == 0, system.log_tail("policy")
    assert took <= POLICY_DRAIN_S + 5, took  # the drain bound and the exit itself
    assert len(await _decided(system) & ids) < len(ids), "policy was not stopped mid-stream"
    system.start("policy")
    await _wait_ready(system, "policy", time.monotonic() + 120)
    async with asyncio.timeout(60):
        while missing := ids - await _decided(system):
            await asyncio.sleep(0.5)
    assert not missing


async def _decided(system: System) -> set[str]:
    """The intents with a decision on the decisions topic."""
    return {r["intent"]["intent_id"] for r in await read_all(system.kafka, DECISIONS)}


async def _ledger(system: System) -> dict[str, tuple[str, bool]]:
    """Each intent's state in dispatch's ledger, and whether the wamid of its answer is kept."""
    conn = await asyncpg.connect(system.database_url)
    try:
        rows = await conn.fetch("SELECT intent_id, state, wamid FROM dispatch_intents")
    finally:
        await conn.close()
    return {r["intent_id"]: (r["state"], r["wamid"] is not None) for r in rows}


async def _until_taken(session: aiohttp.ClientSession, sandbox: str, count: int) -> None:
    """Until the sandbox has taken `count` sends (their answers still to come)."""
    async with asyncio.timeout(60):
        while True:
            messages = await sandbox_json(session, "GET", f"{sandbox}/_sandbox/messages")
            assert isinstance(messages, dict)
            if len(messages["sent"]) >= count:
                return
            await asyncio.sleep(0.1)
