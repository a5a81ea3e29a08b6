"""Prometheus metrics: one registry per process, passed in, with the process, platform, GC and
build-info metrics every exporter has; the standard consumer metrics."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass
from importlib import metadata

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

DISTRIBUTION = "wagate"
REVISION_VARIABLE = "WAGATE_REVISION"


def new_registry() -> CollectorRegistry:
    """A registry with `process_*`, `python_info`, `python_gc_*` and `wagate_build_info`."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    version, revision = build()
    Gauge(
        "wagate_build_info",
        "The running build: package version, source revision, Python version (always 1).",
        ["version", "revision", "python"],
        registry=registry,
    ).labels(version, revision, platform.python_version()).set(1)
    return registry


def build() -> tuple[str, str]:
    """The installed package's version and the source revision the image was built from: a
    fact the image carries (its build sets WAGATE_REVISION), not configuration."""
    try:
        version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return version, os.environ.get(REVISION_VARIABLE) or "unknown"


@dataclass(frozen=True)
class ConsumerMetrics:
    processed: Counter
    dead_lettered: Counter
    retried: Counter
    handle_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry, service: str) -> ConsumerMetrics:
        prefix = f"wagate_{service}"
        return cls(
            processed=Counter(
                f"{prefix}_records_processed_total",
                "Records handled.",
                ["topic"],
                registry=registry,
            ),
            dead_lettered=Counter(
                f"{prefix}_records_dead_lettered_total",
                "Records sent to the dead-letter topic.",
                ["topic", "reason"],
                registry=registry,
            ),
            retried=Counter(
                f"{prefix}_records_retried_total",
                "Retryable failures (record re-read).",
                ["topic"],
                registry=registry,
            ),
            handle_seconds=Histogram(
                f"{prefix}_record_handle_seconds",
                "Time to handle one record.",
                ["topic"],
                registry=registry,
            ),
        )
