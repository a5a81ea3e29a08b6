"""A number's long backlog waits in the ledger, not in memory, and is read back in order."""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiokafka import TopicPartition

from tests.services.dispatch.conftest import Rig, approved

pytestmark = pytest.mark.postgres


@pytest.fixture
def rig_settings(rig_settings: dict[str, Any]) -> dict[str, Any]:
    rig_settings["rates"] = {**rig_settings["rates"], "spill_at": 3}
    return rig_settings


async def test_a_backlog_beyond_the_memory_cap_is_read_back_from_the_ledger(rig: Rig) -> None:
    sender = rig.senders.get("pn-big")
    sender.bucket.block(time.monotonic(), 0.5)
    ids = [f"big-{i}" for i in range(8)] + ["urgent"]
    for intent_id in ids[:-1]:
        await rig.decide(approved(intent_id, number="pn-big", to=f"9{intent_id}"))
    await rig.decide(approved("urgent", number="pn-big", to="9u", priority="reply"))
    assert len(sender.lanes) == 3
    assert (
        rig.dispatch.backpressure.backlog(TopicPartition("decisions", 0)) == 3
    )  # the rest count nowhere
    await rig.wait_for(lambda: all(rig.states(i) == ["accepted"] for i in ids))
    assert all(rig.api.seen[i] == 1 for i in ids)
    assert rig.api.order.index("urgent") <= 3  # read back from the ledger before older ones
