"""The benchmark's CPU readings: a process's own user and system time, with its children's when
asked (PostgreSQL's work is in its backends), and the servers found from the scripts' pid files
only while those processes run them."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.measure import CpuSplit, cpu_seconds, servers

# Readings are ticks over a float (13.36 - 12.76 < 0.6), and a child spins a little longer than
# is asserted, as the kernel rounds its time to ticks.
HALF_A_TICK = 0.5 / os.sysconf("SC_CLK_TCK")
SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n{then}"


def test_cpu_seconds_follow_the_time_the_process_spends_on_a_core() -> None:
    before, process_before = cpu_seconds(os.getpid()), time.process_time()
    digest = b""
    while time.process_time() - process_before < 0.5:
        digest = hashlib.sha256(digest * 64).digest()
    spent = cpu_seconds(os.getpid()) - before
    process_spent = time.process_time() - process_before

    assert abs(spent - process_spent) < 0.05  # the kernel counts in ticks of 10 ms


def test_with_children_a_running_child_and_a_finished_one_are_counted() -> None:
    alone, together = cpu_seconds(os.getpid()), cpu_seconds(os.getpid(), children=True)
    running = subprocess.Popen([sys.executable, "-c", SPIN.format(s=0.7, then="time.sleep(30)")])
    try:
        deadline = time.monotonic() + 20
        while cpu_seconds(running.pid) < 0.6 - HALF_A_TICK and time.monotonic() < deadline:
            time.sleep(0.05)
        assert cpu_seconds(running.pid) >= 0.6 - HALF_A_TICK
        assert cpu_seconds(os.getpid(), children=True) - together >= 0.6 - HALF_A_TICK  # live
        assert cpu_seconds(os.getpid()) - alone < 0.5  # not without `children`
    finally:
        running.kill()
        running.wait()
    subprocess.run([sys.executable, "-c", SPIN.format(s=0.5, then="")], check=True)
    assert (
        cpu_seconds(os.getpid(), children=True) - together >= 1.0 - HALF_A_TICK
    )  # and after it was waited


def test_a_split_gives_each_process_its_own_time() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        split = CpuSplit({"busy": os.getpid(), "idle": child.pid})
        split.start()
        began = time.process_time()
        while time.process_time() - began < 0.3:
            pass
        split.stop()
    finally:
        child.kill()
        child.wait()
    assert split.spent["busy"] >= 0.25
    assert split.spent["idle"] < 0.05


def test_servers_are_found_only_while_their_process_runs_that_server(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    assert servers(tmp_path) == {}  # no pid files: servers elsewhere
    broker = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(30)", "kafka.Kafka", "server.properties"]
    )
    try:
        (run / "kafka.pid").write_text(f"{broker.pid}\n")
        (run / "postgres.pid").write_text(f"{os.getpid()}\n")  # a process that is not PostgreSQL
        assert servers(tmp_path) == {"Kafka broker": broker.pid}
    finally:
        broker.kill()
        broker.wait()
    assert servers(tmp_path) == {}  # its pid file outlived it
    (run / "kafka.pid").write_text("not a pid")
    assert servers(tmp_path) == {}
