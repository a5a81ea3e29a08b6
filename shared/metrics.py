"""Prometheus metrics: one registry per process, passed in; the standard consumer metrics."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


def new_registry() -> CollectorRegistry:
    return CollectorRegistry(auto_describe=True)


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
