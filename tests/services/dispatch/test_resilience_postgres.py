"""Crashes, refused credentials, throughput and ordering: dispatch over the real ledger and
a local fake Cloud API."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest

from services.dispatch.ledger import NewIntent
from services.dispatch.rates import PairGate
from shared import codec
from shared.events.envelope import utcnow
from tests.services.dispatch.conftest import Rig, approved, reported

pytestmark = pytest.mark.postgres


async def test_a_crash_after_the_attempt_was_recorded_is_settled_not_resent_blindly(
    rig: Rig,
) -> None:
    # The process died after `sending` was written: the request may or may not have left.
    await rig.ledger.claim(_new_queued(rig, "crashed"))
    await rig.ledger.start_attempt("crashed")
    await _age(rig, "crashed", seconds=120)  # still `sending`, its timeouts long past
    rig.settler.settings = rig.settings.model_copy(
        update={"settle": rig.settings.settle.model_copy(update={"unknown_wait_s": 3600})}
    )
    await rig.settler.settle_once()
    assert rig.states("crashed") == ["unknown"] and rig.api.seen["crashed"] == 0
    await rig.status(reported("crashed", "wamid.X", "delivered"))
    assert rig.states("crashed") == ["unknown", "delivered"]
    row = await rig.ledger.get("crashed")
    assert row is not None and row.wamid == "wamid.X" and rig.api.seen["crashed"] == 0


async def test_an_unknown_send_without_any_status_is_never_sent_again(rig: Rig) -> None:
    # Meta took the request, the answer never came: sending it again would send it twice.
    rig.api.fail("lost", ("hang", 1.0))
    await rig.decide(approved("lost"))
    await rig.wait_for(lambda: rig.states("lost") == ["unknown"])
    for _ in range(3):
        await rig.settler.settle_once()  # unknown_wait_s = 0 in the rig
    await asyncio.sleep(0.3)  # a resend, were one queued, would have gone by now
    assert rig.states("lost") == ["unknown", "unknown"]
    assert rig.published.updates("lost")[-1].reasons == ["OUTCOME_UNCONFIRMED"]
    assert rig.api.seen["lost"] == 1
    # however late, a status settles it
    await rig.status(reported("lost", "wamid.LATE", "delivered"))
    assert rig.states("lost") == ["unknown", "unknown", "delivered"]


@pytest.mark.parametrize("body", ["{}", '{"messages": [{}]}', "not json", '{"messages": "x"}'])
async def test_a_malformed_200_is_unknown_never_a_crash_nor_a_resend(rig: Rig, body: str) -> None:
    rig.api.fail("odd", ("raw", 200, body))
    await rig.decide(approved("odd"))
    await rig.wait_for(lambda: rig.states("odd") == ["unknown"])
    await rig.settler.settle_once()
    await rig.decide(approved("next"))  # the number's sender is still alive
    await rig.wait_for(lambda: rig.states("next") == ["accepted"])
    assert rig.states("odd") == ["unknown", "unknown"] and rig.api.seen["odd"] == 1
    assert rig.senders.crash() is None
    await rig.status(reported("odd", "wamid.MAYBE", "sent"))  # Meta had taken it
    assert rig.states("odd") == ["unknown", "unknown", "sent"]


async def test_an_opted_in_unknown_send_is_sent_again_after_the_wait(rig: Rig) -> None:
    rig.api.fail("lost", ("hang", 1.0))
    await rig.decide(approved("lost", resend_when_unknown=True))
    await rig.wait_for(lambda: rig.states("lost") == ["unknown"])
    await rig.settler.settle_once()  # unknown_wait_s = 0 in the rig: resent
    await rig.wait_for(lambda: rig.states("lost") == ["unknown", "accepted"])
    assert rig.api.seen["lost"] == 2 and rig.api.accepted["lost"] == 1


async def test_an_explicit_resend_sends_an_unconfirmed_intent_once_more(rig: Rig) -> None:
    rig.api.fail("asked", ("hang", 1.0))
    await rig.decide(approved("asked"))
    await rig.wait_for(lambda: rig.states("asked") == ["unknown"])
    await rig.settler.settle_once()
    row = await rig.dispatch.resend("asked", "ops@example")
    assert row is not None and row.state == "queued"
    assert await rig.ledger.resend("asked", "ops@example") is None  # already queued
    await rig.wait_for(lambda: rig.states("asked")[-1:] == ["accepted"])
    assert rig.api.seen["asked"] == 2 and rig.api.accepted["asked"] == 1
    assert await rig.ledger.resend("asked", "ops@example") is None  # accepted: nothing to ask
    [logged] = await rig.ledger.resends("asked")
    assert (logged["requested_by"], logged["from_state"], logged["attempts"]) == (
        "ops@example", "unconfirmed", 1,
    )  # fmt: skip


async def test_a_status_that_arrives_before_the_wamid_is_applied_when_it_is_known(
    rig: Rig,
) -> None:
    rig.api.latency_s = 0.15  # under the read timeout
    await rig.decide(approved("early"))
    await rig.wait_for(lambda: rig.api.seen["early"] == 1)
    # Without callback data the status can only be joined by wamid, not yet stored.
    await rig.status(reported(None, "wamid.FAKE00000000", "delivered"))
    await rig.wait_for(lambda: rig.states("early") == ["accepted", "delivered"])


async def test_statuses_never_move_an_intent_backwards(rig: Rig) -> None:
    await rig.decide(approved("mono"))
    await rig.wait_for(lambda: rig.states("mono") == ["accepted"])
    wamid = rig.api.wamids["mono"][0]
    for status in ["read", "sent", "delivered", "read", "failed"]:
        await rig.status(reported("mono", wamid, status))
    assert rig.states("mono") == ["accepted", "read"]


async def test_refused_credentials_hold_one_number_and_others_go_on(rig: Rig) -> None:
    rig.api.tokens_refused.add("expired-token")  # pn-held's token, see rig_settings
    await rig.decide(approved("held-1", number="pn-held"))
    await rig.decide(approved("held-2", number="pn-held"))
    sender = rig.senders.get("pn-held")
    await rig.wait_for(lambda: sender.circuit.state.value == "open")
    await rig.decide(approved("other", number="pn-other"))
    await rig.wait_for(lambda: rig.states("other") == ["accepted"])
    rows = [await rig.ledger.get(i) for i in ("held-1", "held-2")]
    assert all(r is not None and r.state == "queued" and r.attempts == 0 for r in rows)
    # the business hears that they wait (each intent the refusal met), nothing terminal
    held = {i: rig.states(i) for i in ("held-1", "held-2")}
    assert any(held.values()) and all(set(states) <= {"held"} for states in held.values())
    rig.api.tokens_refused.clear()  # the token was renewed

    def sent_once(intent_id: str) -> bool:
        return [s for s in rig.states(intent_id) if s != "held"] == ["accepted"]

    await rig.wait_for(lambda: sent_once("held-1") and sent_once("held-2"))
    assert sender.circuit.state.value == "closed"
    assert rig.api.accepted["held-1"] == rig.api.accepted["held-2"] == 1


@pytest.fixture
def rig_settings(rig_settings: dict[str, Any]) -> dict[str, Any]:
    rig_settings["rates"] = {
        "default_mps": 40,
        "numbers_mps": {"pn-fast": 200, "pn-lanes": 20},
        "pair_interval_s": 0.001,
        "pair_burst": 50,
    }
    rig_settings["cloud_api"]["tokens"] = {"pn-held": "expired-token"}
    return rig_settings


async def test_throughput_stays_within_each_numbers_rate(rig: Rig) -> None:
    # Any one second carries at most rate + the bucket's depth (0.02 s of rate, at least 1).
    rig.api.number_limits = {"pn-slow": 40 + 1, "pn-fast": 200 + 4}
    slow = [f"slow-{i}" for i in range(60)]
    fast = [f"fast-{i}" for i in range(200)]
    started = time.monotonic()
    for i, intent_id in enumerate(slow):
        await rig.decide(approved(intent_id, number="pn-slow", to=f"1{i:06d}"))
    for i, intent_id in enumerate(fast):
        await rig.decide(approved(intent_id, number="pn-fast", to=f"2{i:06d}"))
    await rig.wait_for(lambda: all(rig.states(i) == ["accepted"] for i in fast))
    fast_done = time.monotonic() - started
    await rig.wait_for(lambda: all(rig.states(i) == ["accepted"] for i in slow))
    slow_done = time.monotonic() - started
    assert rig.api.throttled == 0
    assert slow_done >= 59 / 40 * 0.95
    assert fast_done < slow_done  # the slow number held nobody up


async def _age(rig: Rig, intent_id: str, seconds: int) -> None:
    pool = rig.ledger._pool
    await pool.execute(
        "UPDATE dispatch_intents SET state_since = now() - make_interval(secs => $2)"
        " WHERE intent_id = $1",
        intent_id,
        seconds,
    )


def _new_queued(rig: Rig, intent_id: str) -> NewIntent:
    decision = approved(intent_id)
    return NewIntent(
        intent_id, "pn-1", "16505551234", {}, "queued", codec.encode(decision).decode(), "reply"
    )


async def test_replies_go_before_notifications_before_marketing(rig: Rig) -> None:
    # The number's bucket is empty for a moment: everything waits in its lanes.
    rig.senders.get("pn-lanes").bucket.block(time.monotonic(), 0.5)
    order = [("m", "marketing"), ("n", "notification"), ("r", "reply")]
    for lane, priority in order:
        for i in range(4):
            await rig.decide(
                approved(f"{lane}-{i}", number="pn-lanes", to=f"3{lane}{i}", priority=priority)
            )
    await rig.wait_for(lambda: len(rig.api.order) == 12)
    lanes = [callback[0] for callback in rig.api.order]
    assert lanes == ["r"] * 4 + ["n"] * 4 + ["m"] * 4


async def test_the_pair_rate_spaces_one_customer_and_not_the_others(
    rig: Rig,
) -> None:
    # one second between a customer's sends; the margins below leave room for a loaded
    # machine's scheduling between a send let out and its arrival, far from both sides
    rig.senders.get("pn-pair").pairs = PairGate(interval_s=1.0, burst=1)
    await rig.decide(approved("c-1", number="pn-pair", to="111"))
    await rig.decide(approved("c-2", number="pn-pair", to="111"))
    await rig.decide(approved("d-1", number="pn-pair", to="222"))
    await rig.wait_for(lambda: len(rig.api.order) == 3)
    # c-1 and d-1 go together (in flight at once); c-2 waits out the customer's interval.
    assert set(rig.api.order[:2]) == {"c-1", "d-1"} and rig.api.order[2] == "c-2"
    arrived = rig.api.arrived
    assert arrived["c-2"] - arrived["c-1"] >= 0.7
    assert abs(arrived["d-1"] - arrived["c-1"]) < 0.4


async def test_an_opted_in_unknown_send_past_its_time_fails_as_not_sent(rig: Rig) -> None:
    rig.api.fail("gone", ("hang", 1.0))
    soon = utcnow() + timedelta(seconds=0.5)
    await rig.decide(approved("gone", not_after=soon, resend_when_unknown=True))
    await rig.wait_for(lambda: rig.states("gone") == ["unknown"])
    await asyncio.sleep(0.5)  # not_after passes with no status
    await rig.settler.settle_once()
    assert rig.states("gone") == ["unknown", "failed"]
    assert rig.published.updates("gone")[-1].reasons == ["NOT_SENT"]
    letters = [h for t, _, _, h in rig.published.events if t == "wagate.deadletter.v1"]
    assert [h["wagate-intent-id"] for h in letters] == [b"gone"]
    assert rig.api.seen["gone"] == 1


async def test_a_redelivered_status_publishes_the_update_that_never_reached_kafka(
    rig: Rig,
) -> None:
    await rig.decide(approved("re"))
    await rig.wait_for(lambda: rig.states("re") == ["accepted"])
    wamid = rig.api.wamids["re"][0]
    await rig.ledger.record("re", "delivered")  # recorded, then Kafka failed the publish
    await rig.status(reported("re", wamid, "delivered"))  # the status is read again
    assert rig.states("re") == ["accepted", "delivered"]
    row = await rig.ledger.get("re")
    assert row is not None and row.reported == "delivered"
    await rig.status(reported("re", wamid, "delivered"))
    assert rig.states("re") == ["accepted", "delivered"]
