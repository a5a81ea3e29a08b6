"""Policy's decision counter: one count per decision under each of its reasons, the same
series counted on however often it is met."""

from __future__ import annotations

from services.policy.metrics import NO_REASON, PolicyMetrics
from shared.events.reasons import Reason
from shared.metrics import new_registry


def test_each_decision_counts_once_under_each_of_its_reasons() -> None:
    registry = new_registry()
    metrics = PolicyMetrics(registry)
    for _ in range(3):
        metrics.decided("approved", [])
    metrics.decided("rejected", [Reason.WINDOW_CLOSED])
    metrics.decided("rejected", ["WINDOW_CLOSED", Reason.MESSAGING_LIMIT])

    def count(outcome: str, reason: str) -> float | None:
        labels = {"outcome": outcome, "reason": reason}
        return registry.get_sample_value("wagate_policy_decisions_total", labels)

    assert count("approved", NO_REASON) == 3
    assert count("rejected", "WINDOW_CLOSED") == 2
    assert count("rejected", "MESSAGING_LIMIT") == 1
    assert count("approved", "WINDOW_CLOSED") is None  # never met: no series
