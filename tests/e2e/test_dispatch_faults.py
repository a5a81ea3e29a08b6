"""Dispatch against a misbehaving Cloud API (the sandbox's seeded faults): 5xx, dropped
connections, answers too late, duplicated and reordered webhooks. Every intent still ends
exactly once, or is said unconfirmed (a dropped connection: the request may have reached Meta,
so it is never sent again), and Meta saw each one at most once."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict

import aiohttp
import pytest

from shared.client import WagateClient
from shared.events.delivery import TERMINAL_STATES
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]
CUSTOMERS = [f"1650555{n:04d}" for n in range(20)]
FAULTS = {
    "server_error_rate": 0.2,
    "drop_rate": 0.1,
    "timeout_rate": 0.1,
    "timeout_s": 5,
    "webhook_duplicate_rate": 0.3,
    "webhook_reorder_rate": 0.3,
    "seed": 20261125,
}


async def test_every_intent_ends_once_and_reaches_meta_once(system: System) -> None:
    sandbox = system.url("sandbox")
    async with aiohttp.ClientSession() as session:
        for customer in CUSTOMERS:
            async with session.post(
                f"{sandbox}/sandbox/customer-messages",
                json={
                    "phone_number_id": PHONE_NUMBER_ID,
                    "from": customer,
                    "text": "hello",
                },
            ) as resp:
                assert resp.status == 200
        await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", len(CUSTOMERS))
        async with session.put(f"{sandbox}/_sandbox/faults", json=FAULTS) as resp:
            assert resp.status == 200, await resp.text()

    intents = [
        OutboundIntentSubmitted(
            intent_id=f"fault-{n}",
            phone_number_id=PHONE_NUMBER_ID,
            to=c,
            content=TextContent(body=f"Reply {n}"),
            priority="reply",
        )
        for n, c in enumerate(CUSTOMERS)
    ]
    updates: dict[str, list[str]] = defaultdict(list)
    unconfirmed: set[str] = set()
    seen_events: set[str] = set()
    async with (
        WagateClient(system.kafka) as client,
        client.follow([i.intent_id for i in intents]) as stream,
    ):
        for intent in intents:
            await client.send(intent)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(300):
                async for update in stream:
                    if update.event_id in seen_events:
                        continue  # at-least-once: the same update twice has the same id
                    seen_events.add(update.event_id)
                    updates[update.intent_id].append(update.state)
                    if "OUTCOME_UNCONFIRMED" in update.reasons:
                        unconfirmed.add(update.intent_id)
                    if all(
                        i.intent_id in unconfirmed
                        or any(s in TERMINAL_STATES for s in updates[i.intent_id])
                        for i in intents
                    ):
                        break

    ended = {i: [s for s in states if s in TERMINAL_STATES] for i, states in updates.items()}
    unfinished = [
        i.intent_id
        for i in intents
        if not ended.get(i.intent_id) and i.intent_id not in unconfirmed
    ]
    assert not unfinished, f"no terminal update for {unfinished}: {dict(updates)}"
    assert all(len(s) == 1 or (not s and i in unconfirmed) for i, s in ended.items()), ended
    assert {states[0] for states in ended.values() if states} <= {"delivered", "failed"}

    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sandbox}/_sandbox/messages") as resp:
            accepted = Counter(m["callback"] for m in (await resp.json())["sent"])
        async with session.get(f"{sandbox}/sandbox/violations") as resp:
            violations = await resp.json()
        async with session.get(f"{sandbox}/metrics") as resp:
            metrics = await resp.text()
    injected = {
        line.split("{")[1].split("}")[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("wagate_sandbox_faults_total{")
    }
    assert sum(injected.values()) >= 5, f"too few faults to prove anything: {injected}"
    duplicates = {k: n for k, n in accepted.items() if n > 1}
    assert not duplicates, f"Meta accepted these intents more than once: {duplicates}"
    delivered = {i for i, states in ended.items() if states == ["delivered"]}
    assert delivered <= set(accepted)
    # an unconfirmed intent is one Meta never took: had it, its statuses would have settled it
    assert {i for i in unconfirmed if not ended.get(i)} & set(accepted) == set()
    assert violations["count"] == 0, violations
