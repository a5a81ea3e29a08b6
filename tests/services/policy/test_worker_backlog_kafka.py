"""A policy worker started on filled tables and a backlog of intents decides every one of
them (a real worker process, real broker). The worker's fetcher can give up records it fetched
while its tables recover; the stall watch (`services/policy/stall.py`) reads them again."""

from __future__ import annotations

import pytest

from bench import policy_worker_bench

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(420)]


async def test_a_worker_on_filled_tables_decides_its_whole_backlog(kafka_bootstrap: str) -> None:
    # 1,000 conversations' windows and opt-ins, 50 templates, 2,000 intents waiting: the bench
    # raises unless every intent is decided (approved) within 120 s of the one before
    figures = await policy_worker_bench.decisions(kafka_bootstrap, 2000, 1000, 50)
    assert figures["rate"] > 0
