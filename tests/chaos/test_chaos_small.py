"""The small chaos run, inside `make test`: a few hundred intents over the wired system while
one fault of each kind strikes: dispatch SIGKILLed mid-send, the sandbox answering too late
after accepting, dropping connections, duplicating webhooks and delaying some past dispatch's
settle wait. Nothing is lost (every intent ends, or is said unconfirmed when its request may
have reached Meta), nothing is sent twice (the sandbox counts accepted sends per intent), and
no rule of Meta's is broken. The seed is printed with the table (WAGATE_CHAOS_SEED replays).

`make chaos` runs the same with more (WAGATE_CHAOS_INTENTS, WAGATE_CHAOS_CUSTOMERS) and kills
each service named in WAGATE_CHAOS_KILLS (comma separated, a name twice kills it twice) at
random moments from the seed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import Counter

import aiohttp
import pytest

from shared.client import WagateClient
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.chaos.tally import MUST_BE_ZERO, Tally, table
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

TIMEOUT_S = int(os.environ.get("WAGATE_CHAOS_TIMEOUT_S", 600))
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(TIMEOUT_S)]
SEED = int(os.environ.get("WAGATE_CHAOS_SEED") or random.SystemRandom().randrange(1, 10**9))
CUSTOMERS = [f"1650777{n:04d}" for n in range(int(os.environ.get("WAGATE_CHAOS_CUSTOMERS", 40)))]
INTENTS = int(os.environ.get("WAGATE_CHAOS_INTENTS", 240))
KILLS = os.environ.get("WAGATE_CHAOS_KILLS", "dispatch").split(",")
UNKNOWN_WAIT_S = 8


@pytest.fixture
def system_env() -> dict[str, str]:
    return {"DISPATCH_SETTLE__UNKNOWN_WAIT_S": str(UNKNOWN_WAIT_S)}


def _faults(seed: int) -> dict[str, float | int]:
    return {
        "timeout_rate": 0.04,  # accepted, answered after the read timeout (3 s)
        "timeout_s": 5,
        "drop_rate": 0.03,  # connection closed before any answer
        "webhook_duplicate_rate": 0.2,
        "webhook_delay_rate": 0.05,
        "webhook_delay_s": UNKNOWN_WAIT_S + 6,  # past the settle wait
        "seed": seed,
    }


async def _sandbox(session: aiohttp.ClientSession, method: str, url: str, **kw: object) -> object:
    async with session.request(method, url, **kw) as resp:  # type: ignore[arg-type]
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def test_nothing_lost_nothing_sent_twice_under_faults(system: System) -> None:
    rng = random.Random(SEED)
    sandbox = system.url("sandbox")
    async with aiohttp.ClientSession() as session:
        for customer in CUSTOMERS:
            body = {"phone_number_id": PHONE_NUMBER_ID, "from": customer, "text": "hi"}
            await _sandbox(session, "POST", f"{sandbox}/sandbox/customer-messages", json=body)
        await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", len(CUSTOMERS))
        await _sandbox(session, "PUT", f"{sandbox}/_sandbox/faults", json=_faults(SEED))
    intents = [
        OutboundIntentSubmitted(
            intent_id=f"chaos-{SEED}-{n}",
            phone_number_id=PHONE_NUMBER_ID,
            to=rng.choice(CUSTOMERS),
            content=TextContent(body=f"Update {n}"),
            priority="reply",
        )
        for n in range(INTENTS)
    ]
    tally = Tally([i.intent_id for i in intents])
    # (intents heard of, service): each SIGKILL comes once that many intents have an update
    kills = sorted((rng.randrange(INTENTS // 10, INTENTS * 3 // 4), name) for name in KILLS)
    killed: list[str] = []
    started = time.monotonic()
    async with (
        WagateClient(system.kafka) as client,
        client.follow(tally.intents) as stream,
        aiohttp.ClientSession() as session,
    ):
        for intent in intents:
            await client.send(intent)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(TIMEOUT_S - 180):
                async for update in stream:
                    tally.add(update)
                    heard = sum(bool(tally.states.get(i)) for i in tally.intents)
                    while kills and heard >= kills[0][0]:
                        at, name = kills.pop(0)
                        killed.append(f"{name}@{at}")
                        await system.restart_killed(name)  # SIGKILL mid-stream, then again
                    if tally.done():
                        break
        await asyncio.sleep(UNKNOWN_WAIT_S)  # a late status, or a second ending, would show now
        messages = await _sandbox(session, "GET", f"{sandbox}/_sandbox/messages")
        violations = await _sandbox(session, "GET", f"{sandbox}/sandbox/violations")
        async with session.get(f"{sandbox}/metrics") as resp:
            injected = _injected(await resp.text())
    assert isinstance(messages, dict) and isinstance(violations, dict)
    accepted = Counter(
        m["callback"] for m in messages["sent"] if m["callback"] in tally.states and not m["error"]
    )
    figures = tally.figures(accepted, int(violations["count"]))
    extra = [
        *((f"faults {kind}", f"{n:.0f}") for kind, n in sorted(injected.items())),
        ("killed (service@intents heard)", " ".join(killed)),
        ("seconds", f"{time.monotonic() - started:.0f}"),
    ]
    print("\n" + table(figures, SEED, extra))
    assert len(killed) == len(KILLS), f"not every kill happened: {killed}"
    assert injected.get("timeout", 0) >= 1 and injected.get("drop", 0) >= 1, injected
    assert {k: figures[k] for k in MUST_BE_ZERO} == dict.fromkeys(MUST_BE_ZERO, 0), (
        f"seed {SEED}: {figures}\n{system.log_tail('dispatch')}"
    )


def _injected(metrics: str) -> dict[str, float]:
    """The sandbox's API faults by kind, from its `wagate_sandbox_faults_total`."""
    prefix = 'wagate_sandbox_faults_total{fault="'
    return {
        line[len(prefix) :].split('"', 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith(prefix)
    }
