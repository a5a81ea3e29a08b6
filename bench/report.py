"""The benchmark's one table: every figure beside its ratio to the bare-Kafka baseline of the
same run, printed as text and written as JSON under `.local/bench/`."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Against = Literal["rate", "p50", "p99", "rss", "none"]  # none: Kafka has no counterpart
PARTS = ("baseline", "ingest", "policy", "dispatch", "end to end", "memory", "peer")


@dataclass(frozen=True)
class Baseline:
    """Bare aiokafka consume -> decode -> produce on the same broker, in the same run."""

    rate: float  # messages per second, flat out
    p50_ms: float  # produced -> passed through -> read back, at a fixed rate
    p99_ms: float
    rss_mib: float  # the pass-through process's resident size

    def of(self, against: Against) -> float:
        return {"rate": self.rate, "p50": self.p50_ms, "p99": self.p99_ms, "rss": self.rss_mib}[
            against
        ]


@dataclass(frozen=True)
class Figure:
    part: str  # one of PARTS
    what: str
    value: float
    unit: str
    against: Against  # which baseline figure it is a ratio to

    def ratio(self, baseline: Baseline) -> float | None:
        if self.against == "none":
            return None
        reference = baseline.of(self.against)
        return self.value / reference if reference else float("nan")


def _number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(figure: Figure, baseline: Baseline) -> str:
    ratio = figure.ratio(baseline)
    if ratio is None:
        return "(no counterpart)"
    if figure.against == "rate":
        return f"{ratio * 100:.2f} % of {_number(baseline.rate)}/s"
    reference = baseline.of(figure.against)
    unit = "MiB" if figure.against == "rss" else f"ms {figure.against}"
    return f"{ratio:.1f} x {_number(reference)} {unit}"


def table(figures: list[Figure], baseline: Baseline) -> str:
    rows = [("part", "what", "figure", "vs bare Kafka")]
    rows += [(f.part, f.what, f"{_number(f.value)} {f.unit}", _ratio(f, baseline)) for f in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "| " + " | ".join("-" * w for w in widths) + " |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def write(
    folder: Path, figures: list[Figure], baseline: Baseline, quick: bool, notes: list[str]
) -> Path:
    """Write the run as `<folder>/<UTC timestamp>.json`; returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    at = datetime.now(UTC)
    path = folder / f"{at.strftime('%Y%m%dT%H%M%S')}.json"
    body = {
        "at": at.isoformat(),
        "quick": quick,
        "machine": machine(),
        "baseline": asdict(baseline),
        "figures": [{**asdict(f), "ratio": f.ratio(baseline)} for f in figures],
        "notes": notes,
    }
    path.write_text(json.dumps(body, indent=2) + "\n")
    return path
