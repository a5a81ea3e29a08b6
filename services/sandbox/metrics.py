"""The sandbox's Prometheus metrics (`wagate_sandbox_...`), on the registry passed in."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter


@dataclass(frozen=True)
class SandboxMetrics:
    sends: Counter
    violations: Counter
    webhooks: Counter
    faults: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> SandboxMetrics:
        return cls(
            sends=Counter(
                "wagate_sandbox_sends_total",
                "Send requests answered, by outcome (accepted, refused).",
                ["outcome"],
                registry=registry,
            ),
            violations=Counter(
                "wagate_sandbox_violations_total",
                "Requests that broke one of Meta's rules, by Meta error code.",
                ["code"],
                registry=registry,
            ),
            webhooks=Counter(
                "wagate_sandbox_webhooks_total",
                "Webhook posts by outcome (delivered, refused, failed, forgery_*).",
                ["outcome"],
                registry=registry,
            ),
            faults=Counter(
                "wagate_sandbox_faults_total",
                "Faults injected into API calls and webhooks, by kind.",
                ["fault"],
                registry=registry,
            ),
        )
