"""What every part of the benchmark measures with: quantiles, resident sizes (psutil when it
is installed, else /proc), and a child process that answers with one JSON line."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

try:
    import psutil
except ImportError:  # the `bench` extra is optional: /proc says the same on Linux
    psutil = None

ROOT = Path(__file__).resolve().parent.parent


def quantile_ms(seconds: Sequence[float], q: float) -> float:
    values = sorted(seconds)
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def rss_mib(pid: int) -> float:
    """The process's resident set size, MiB."""
    if psutil is not None:
        return float(psutil.Process(pid).memory_info().rss) / 2**20
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no resident size for process {pid}")


class PeakRss:
    """Samples the resident size of some processes while a block runs; keeps each one's peak."""

    def __init__(self, pids: dict[str, int], every_s: float = 0.25) -> None:
        self.pids = pids
        self.every_s = every_s
        self.peak = {name: 0.0 for name in pids}
        self._task: asyncio.Task[None] | None = None

    def sample(self) -> None:
        for name, pid in self.pids.items():
            self.peak[name] = max(self.peak[name], rss_mib(pid))

    async def _run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(self.every_s)

    async def __aenter__(self) -> PeakRss:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.sample()


async def child_json(module: str, *args: str, timeout_s: float = 600) -> dict[str, Any]:
    """Run `python -m module args...` (a process of its own, so it has its own core to compete
    for) and return the JSON object its last stdout line holds."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"{module} exited with {proc.returncode}")
    answer: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return answer
