"""Templates' Prometheus counters, registered on the registry the service passes in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class TemplateMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.checks = Counter(
            "wagate_templates_checks_total",
            "Templates checked before storing, by result (valid, refused).",
            ["result"],
            registry=registry,
        )
        self.submissions = Counter(
            "wagate_templates_submissions_total",
            "Submissions to the Cloud API by outcome (submitted, refused, unavailable).",
            ["outcome"],
            registry=registry,
        )
        self.updates = Counter(
            "wagate_templates_updates_total",
            "Template webhook updates by kind and whether they changed the registry.",
            ["kind", "changed"],
            registry=registry,
        )
        self.states = Counter(
            "wagate_templates_states_published_total",
            "Template states published on the states topic.",
            registry=registry,
        )
