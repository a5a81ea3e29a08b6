"""The small chaos run, inside `make test`: a few hundred mixed intents (`tests.chaos.workload`:
open and closed windows, templates in every state, fallbacks, opt-outs, caps) over the wired
system while one fault of each kind strikes (`tests.chaos.strikes`): ingest, policy and
dispatch SIGKILLed, dispatch SIGSTOPped past its consumer session timeout, a restart of the
Kafka broker and one of PostgreSQL (every connection through the forwarder the services reach
them by cut for a few seconds), and the sandbox answering 500 and 503, throttling for a few
seconds at a time, answering too late after accepting, dropping connections, and duplicating,
reordering and delaying webhooks (some past dispatch's settle wait). Nothing is lost (every
intent ends, or is said unconfirmed when its request may have reached Meta), nothing is sent
twice (the sandbox counts accepted sends per intent), no webhook event is doubled or missing,
each intent is sent or refused as the rule calls for, and no rule of Meta's is broken. The
seed is printed with the table, with the recovery time of each fault and each consumer
group's lag (WAGATE_CHAOS_SEED replays).

`make chaos` runs the same with more (WAGATE_CHAOS_INTENTS, WAGATE_CHAOS_CUSTOMERS), kills
each service named in WAGATE_CHAOS_KILLS (comma separated, a name twice kills it twice) and
strikes each outage named in WAGATE_CHAOS_OUTAGES (sigstop, broker, database, throttle) at random
moments from the seed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import time
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from shared.settings import KafkaSettings
from tests.chaos import workload
from tests.chaos.lag import group_lags
from tests.chaos.replies import sandbox_json, submitted
from tests.chaos.strikes import Strike, Striker, described, injected_faults
from tests.chaos.tally import MUST_BE_ZERO, Tally, table
from tests.e2e.conftest import System
from tests.e2e.proxy import Proxy

TIMEOUT_S = int(os.environ.get("WAGATE_CHAOS_TIMEOUT_S", 600))
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(TIMEOUT_S)]
SEED = int(os.environ.get("WAGATE_CHAOS_SEED") or random.SystemRandom().randrange(1, 10**9))
CUSTOMERS = int(os.environ.get("WAGATE_CHAOS_CUSTOMERS", 40))
INTENTS = int(os.environ.get("WAGATE_CHAOS_INTENTS", 240))
KILLS = [k for k in os.environ.get("WAGATE_CHAOS_KILLS", "ingest,policy,dispatch").split(",") if k]
OUTAGES = os.environ.get("WAGATE_CHAOS_OUTAGES", "sigstop,broker,database,throttle").split(",")
UNKNOWN_WAIT_S = 8
USERS = ("INGEST", "POLICY", "DISPATCH", "TEMPLATES")  # the services that reach Kafka


@pytest.fixture
async def proxies(kafka_settings: KafkaSettings, fresh_database: str) -> AsyncIterator[Proxies]:
    """The forwarders the services reach Kafka and PostgreSQL by (the test itself goes direct)."""
    pg_address = fresh_database.split("@", 1)[1].split("/", 1)[0]
    found = Proxies(Proxy.to(kafka_settings.bootstrap, kafka=True), Proxy.to(pg_address))
    await found.kafka.open()
    await found.database.open()
    found.database_url = fresh_database.replace(pg_address, found.database.address)
    try:
        yield found
    finally:
        await found.kafka.close()
        await found.database.close()


class Proxies:
    def __init__(self, kafka: Proxy, database: Proxy) -> None:
        self.kafka, self.database, self.database_url = kafka, database, ""


@pytest.fixture
def system_env(proxies: Proxies) -> dict[str, str]:
    env = {
        "DISPATCH_SETTLE__UNKNOWN_WAIT_S": str(UNKNOWN_WAIT_S),
        "SANDBOX_REVIEW_DELAY_S": "100000",  # templates stay PENDING until reviewed
        "SANDBOX_READ_AFTER_S": "0.05",  # customers read: reordering can put read first
        "POLICY_MARKETING_PER_DAY": str(workload.MARKETING_PER_DAY),
        # Meta's back-off between redeliveries, kept short: the sandbox posts webhooks in
        # order, and one refused holds the rest back (a killed ingest's claim of a webhook
        # is refused until its lease ends)
        "SANDBOX_WEBHOOK_RETRY_MAX_S": "2",
        "INGEST_DEDUPE_LEASE_S": "15",
        # the workload does not reach the messaging limit (tests/e2e/test_compliance_run.py
        # does): policy's share of it per partition stays out of the expected outcomes
        "POLICY_MESSAGING_LIMIT": "100000",
    }
    env.update({f"{svc}_KAFKA__BOOTSTRAP": proxies.kafka.address for svc in USERS})
    env.update({f"{svc}_POSTGRES__URL": proxies.database_url for svc in USERS if svc != "POLICY"})
    return env


def _faults(seed: int) -> dict[str, object]:
    return {
        "server_error_rate": 0.04,  # 500 with 131000: Meta did not take it, dispatch retries
        "unavailable_rate": 0.04,  # 503 with 131016
        "throttle_rate": 0.03,  # 130429 for every send during the next 2 s
        "throttle_window_s": 2,
        "timeout_rate": 0.05,  # accepted, answered after the read timeout (3 s)
        "timeout_s": 5,
        "drop_rate": 0.04,  # connection closed before any answer
        "webhook_duplicate_rate": 0.2,
        "webhook_reorder_rate": 0.1,  # held back behind the next (delivered before sent)
        "webhook_delay_rate": 0.05,
        "webhook_delay_s": UNKNOWN_WAIT_S + 6,  # past the settle wait
        # a short run meets every kind at least once, whatever the seed's draws
        "strike_within": 40,
        "seed": seed,
    }


async def test_nothing_lost_nothing_sent_twice_under_faults(
    system: System, proxies: Proxies
) -> None:
    rng = random.Random(SEED)
    sandbox = system.url("sandbox")
    crowd = workload.customers("1604777", CUSTOMERS)
    await workload.prepare(system, crowd, f"chaos-{SEED}")
    await workload.set_faults(system, _faults(SEED))
    made = workload.intents(rng, f"chaos-{SEED}", crowd, INTENTS)
    intents = made.intents
    tally = Tally([i.intent_id for i in intents], made.expected)
    sends = [i for i, rule in made.expected.items() if rule.sent]
    heard = lambda: sum(bool(tally.states.get(i)) for i in sends)  # noqa: E731
    # each fault strikes once that many intents the rule lets out have an update, in order
    kinds = [*(f"kill:{k}" for k in KILLS), *(o for o in OUTAGES if o)]
    span = (len(sends) // 10, max(len(sends) * 3 // 4, len(sends) // 10 + 1))
    # a throttling burst needs sends still to come: updates lag the sends behind them (a
    # timed-out or delayed one is heard of only after the settle wait), so late in the run
    # every send may be out already though far fewer are heard of
    early = (span[0], max(len(sends) // 3, span[0] + 1))
    schedule = [
        Strike(kind, rng.randrange(*(early if kind == "throttle" else span))) for kind in kinds
    ]
    schedule.sort(key=lambda strike: strike.at)
    striker = Striker(
        system, proxies.kafka, proxies.database, heard, tally.done, schedule, _faults(SEED)
    )
    started = time.monotonic()
    async with submitted(system, intents) as (stream, session):

        async def listen() -> None:
            async for update in stream:
                tally.add(update)
                striker.last_update[0] = time.monotonic()

        listening = asyncio.create_task(listen())
        striking = asyncio.create_task(striker.run())
        try:
            async with asyncio.timeout(TIMEOUT_S - 180):
                await striking
                while not tally.done():
                    await asyncio.sleep(0.2)
        except TimeoutError:
            pass
        finally:
            striking.cancel()
        await asyncio.sleep(UNKNOWN_WAIT_S)  # a late status, or a second ending, would show now
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening
        messages = await sandbox_json(session, "GET", f"{sandbox}/_sandbox/messages")
        violations = await sandbox_json(session, "GET", f"{sandbox}/sandbox/violations")
        async with session.get(f"{sandbox}/metrics") as resp:
            injected = injected_faults(await resp.text())
    assert isinstance(messages, dict) and isinstance(violations, dict)
    accepted = Counter(
        m["callback"] for m in messages["sent"] if m["callback"] in tally.states and not m["error"]
    )
    figures = tally.figures(accepted, int(violations["count"]))
    lags = await group_lags(system, system.kafka.topic_prefix)
    expected_refusals = sum(not e.sent for e in made.expected.values())
    extra = [
        ("expected refused by the rule", str(expected_refusals)),
        *((f"lag {group}", str(n)) for group, n in sorted(lags.items())),
        *((f"faults {kind}", f"{n:.0f}") for kind, n in sorted(injected.items())),
        *described(schedule),
        ("seconds", f"{time.monotonic() - started:.0f}"),
    ]
    print("\n" + table(figures, SEED, extra))
    unrecovered = [s.kind for s in schedule if s.recovered_s is None]
    assert not unrecovered, (
        f"seed {SEED}: struck and never recovered, or never struck: {unrecovered}"
    )
    struck = {"server_error", "unavailable", "throttle", "timeout", "drop"}
    struck |= {"webhook_duplicate", "webhook_reorder", "webhook_delay"}
    assert struck <= {k for k, n in injected.items() if n >= 1}, injected
    assert {k: figures[k] for k in MUST_BE_ZERO} == dict.fromkeys(MUST_BE_ZERO, 0), (
        f"seed {SEED}: {figures}\n{system.log_tail('dispatch')}"
    )
