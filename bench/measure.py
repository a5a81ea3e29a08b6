"""What every part of the benchmark measures with: quantiles, resident sizes (psutil when it
is installed, else /proc), the CPU time of processes and their children (/proc), and a child
process that answers with one JSON line."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
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


def _stat(pid: int) -> list[str]:
    """The fields of `/proc/<pid>/stat` after the command name (which may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int, children: bool = False) -> float:
    """The user and system CPU time the process spent so far; with `children`, also that of
    its children: the live ones, and those it waited for (as PostgreSQL's backends are)."""
    fields = _stat(pid)
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                child = _stat(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue  # gone meanwhile
            if int(child[1]) == pid:
                ticks += sum(int(child[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def servers(local: Path) -> dict[str, int]:
    """The Kafka broker and PostgreSQL the project's scripts started (their pid files under
    `local/run/`), each only while its process runs that server: empty for servers elsewhere."""
    found = {}
    for name, pidfile, runs in (
        ("Kafka broker", "kafka.pid", lambda argv: b"kafka.Kafka" in argv),
        ("PostgreSQL", "postgres.pid", lambda argv: argv[0].rsplit(b"/", 1)[-1] == b"postgres"),
    ):
        try:
            pid = int((local / "run" / pidfile).read_text().split()[0])
            if runs(Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")):
                found[name] = pid
        except (OSError, ValueError, IndexError):
            continue
    return found


class CpuSplit:
    """The CPU time each of some processes (with their children) spent between `start` and
    `stop`."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {name: cpu_seconds(pid, children=True) for name, pid in self.pids.items()}

    def start(self) -> None:
        self._before = self._now()

    def stop(self) -> None:
        after = self._now()
        self.spent = {name: after[name] - self._before[name] for name in self.pids}


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
