"""A policy worker started on filled tables and a backlog of intents decides every one of
them, without its stall watch having to read anything again (a real worker process, real
broker). faust's recovery cleared the streams' buffers while they ran, and the records in them
were not read again: `services/policy/flow.py` keeps them."""

from __future__ import annotations

import pytest

from bench import policy_worker_bench

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]


async def test_a_worker_on_filled_tables_decides_its_whole_backlog(kafka_bootstrap: str) -> None:
    # 1,000 conversations' windows and opt-ins, 50 templates, 2,000 intents waiting: the bench
    # raises unless every one of the 2,000 intents is decided (approved), a repeat counted once,
    # within 120 s of the one before
    figures = await policy_worker_bench.decisions(kafka_bootstrap, 2000, 1000, 50)
    assert figures["stalls"] == 0  # nothing fetched was given up: no seek back was needed
