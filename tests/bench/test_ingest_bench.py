"""The ingest benchmark's CPU reading: the process's own user and system time."""

from __future__ import annotations

import hashlib
import os
import time

from bench.ingest_bench import cpu_seconds


def test_cpu_seconds_follow_the_time_the_process_spends_on_a_core() -> None:
    before, process_before = cpu_seconds(os.getpid()), time.process_time()
    digest = b""
    while time.process_time() - process_before < 0.5:
        digest = hashlib.sha256(digest * 64).digest()
    spent = cpu_seconds(os.getpid()) - before
    process_spent = time.process_time() - process_before

    assert abs(spent - process_spent) < 0.05  # the kernel counts in ticks of 10 ms
