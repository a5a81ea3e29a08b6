"""The console's Prometheus metrics: read-model batches and rows, records it could not read,
retention, redrives, logins and live views."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ConsoleMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.rows = Counter(
            "wagate_console_rows_written_total",
            "Rows offered to the read model, by table (duplicates included).",
            ["table"],
            registry=registry,
        )
        self.batch_records = Histogram(
            "wagate_console_batch_records",
            "Records in one read-model batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500),
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "wagate_console_batch_write_seconds",
            "Time to write one batch to PostgreSQL.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
        self.skipped = Counter(
            "wagate_console_records_skipped_total",
            "Records the console could not read (their owner dead-letters them), by topic.",
            ["topic"],
            registry=registry,
        )
        self.retried = Counter(
            "wagate_console_batches_retried_total",
            "Batches read again after the read model was unavailable.",
            registry=registry,
        )
        self.retention = Counter(
            "wagate_console_rows_forgotten_total",
            "Rows deleted by retention, by table.",
            ["table"],
            registry=registry,
        )
        self.redrives = Counter(
            "wagate_console_redrives_total",
            "Dead letters redriven, by outcome (redriven, refused, gone).",
            ["outcome"],
            registry=registry,
        )
        self.logins = Counter(
            "wagate_console_logins_total",
            "Login attempts by outcome (ok, refused).",
            ["outcome"],
            registry=registry,
        )
        self.refused = Counter(
            "wagate_console_requests_refused_total",
            "Requests refused, by why (unauthenticated, forbidden, csrf, bad_input).",
            ["why"],
            registry=registry,
        )
        self.live = Gauge(
            "wagate_console_live_views", "Open live views (server-sent events).", registry=registry
        )
