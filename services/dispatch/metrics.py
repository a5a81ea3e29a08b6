"""Dispatch's Prometheus metrics: sends by outcome and code, latency, retries, bucket waits,
circuit states and backpressure."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class DispatchMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.sends = Counter(
            "wagate_dispatch_sends_total",
            "Cloud API sends by outcome and code.",
            ["outcome", "code"],
            registry=registry,
        )
        self.send_seconds = Histogram(
            "wagate_dispatch_send_seconds",
            "Cloud API send latency.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.retries = Counter(
            "wagate_dispatch_retries_total",
            "Sends scheduled again, by kind.",
            ["kind"],
            registry=registry,
        )
        self.bucket_wait_seconds = Histogram(
            "wagate_dispatch_bucket_wait_seconds",
            "Waits for a business number's throughput token.",
            buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5),
            registry=registry,
        )
        self.outside_sends = Counter(
            "wagate_dispatch_outside_sends_total",
            "Messages the number sent without dispatch, counted against its rates, by source.",
            ["source"],
            registry=registry,
        )
        self.circuit = Gauge(
            "wagate_dispatch_circuit_open",
            "1 while a business number's circuit is open or probing.",
            ["phone_number_id"],
            registry=registry,
        )
        self.updates = Counter(
            "wagate_dispatch_delivery_updates_total",
            "Delivery updates published by state.",
            ["state"],
            registry=registry,
        )
        self.billed = Counter(
            "wagate_dispatch_priced_messages_total",
            "Delivered messages by Meta's pricing, once each: business number, template "
            "(none: no template), category and type (regular: charged).",
            ["phone_number_id", "template", "category", "type"],
            registry=registry,
        )
        self.duplicates = Counter(
            "wagate_dispatch_duplicate_wamids_total",
            "Statuses showing a second wamid for one intent (a send Meta received twice).",
            registry=registry,
        )
        self.settled = Counter(
            "wagate_dispatch_settled_total",
            "Intents the settler moved, by transition.",
            ["transition"],
            registry=registry,
        )
        self.paused = Gauge(
            "wagate_dispatch_paused_partitions",
            "Partitions paused for backpressure.",
            registry=registry,
        )
