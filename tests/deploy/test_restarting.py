"""`make run`'s restart wrapper (deploy/local/restarting.sh): a service that exits with an
error is started again and the output says so; a clean exit ends it; SIGTERM stops the service
and the wrapper without a restart."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT

WRAPPER = str(ROOT / "deploy/local/restarting.sh")


def test_a_crashed_service_is_restarted_and_the_output_says_so(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    # fails twice, then exits cleanly
    script = f"echo run >> {runs}; [ $(wc -l < {runs}) -ge 3 ]"
    done = subprocess.run(
        [WRAPPER, "dispatch", "sh", "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0 and runs.read_text().count("run") == 3
    assert done.stderr.count("dispatch exited with status 1; restarting it in") == 2


def test_sigterm_stops_the_service_and_no_restart_follows(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    wrapper = subprocess.Popen(
        [WRAPPER, "ingest", "sh", "-c", f"echo run >> {runs}; exec sleep 30"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not runs.exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    wrapper.send_signal(signal.SIGTERM)
    _, err = wrapper.communicate(timeout=10)
    assert "restarting" not in err
    time.sleep(1.5)  # past the first restart delay: nothing ran again
    assert runs.read_text().count("run") == 1
