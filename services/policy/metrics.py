"""Policy's metrics: decisions by outcome and reason, the tables' updates, times later than
their receipt, and the records dead-lettered."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter

NO_REASON = "OK"  # the `reason` label of a decision that carries no reason


class PolicyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "wagate_policy_decisions_total",
            "Decisions by outcome and reason.",
            ["outcome", "reason"],
            registry=registry,
        )
        self._decided: dict[tuple[str, str], Counter] = {}  # (outcome, reason) -> its child
        self.windows_updated = Counter(
            "wagate_policy_windows_updated_total",
            "Window refreshes from customer messages and calls.",
            registry=registry,
        )
        self.threads_updated = Counter(
            "wagate_policy_threads_updated_total",
            "Changes of who holds a customer's thread, by holder (business: this app).",
            ["held_by"],
            registry=registry,
        )
        self.consent_updated = Counter(
            "wagate_policy_consent_updated_total",
            "Consent facts recorded, by source: business, send_error, user_preferences, "
            "keyword, quick_reply.",
            ["source"],
            registry=registry,
        )
        self.templates_updated = Counter(
            "wagate_policy_template_states_total", "Template states received.", registry=registry
        )
        self.window_changes = Counter(
            "wagate_policy_window_changes_total",
            "Window changes announced.",
            ["change"],
            registry=registry,
        )
        self.future_timestamps = Counter(
            "wagate_policy_future_timestamps_total",
            "Times later than their receipt plus the allowed skew (a window-opening message, a "
            "consent fact), counted as the receipt.",
            ["fact"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "wagate_policy_dead_letters_total",
            "Records an agent could not use, put on the dead-letter topic, by agent.",
            ["agent"],
            registry=registry,
        )
        self.limits_reported = Counter(
            "wagate_policy_messaging_limits_reported_total",
            "Portfolio messaging limits Meta reported that changed the accounts table.",
            registry=registry,
        )
        self.rerouted = Counter(
            "wagate_policy_intents_rerouted_total",
            "Intents produced with a key other than their conversation.",
            registry=registry,
        )
        self.rekeyed = Counter(
            "wagate_policy_rekeyed_total",
            "Work sent to the partition of the conversation it touches (kind: inbound, call, "
            "thread, move, merge; outcome: sent, merged, kept where it came).",
            ["kind", "outcome"],
            registry=registry,
        )

    def decided(self, outcome: str, reasons: Sequence[str]) -> None:
        """Count one decision under each of its reasons (under NO_REASON when it has none)."""
        for reason in reasons or [NO_REASON]:
            child = self._decided.get((outcome, reason))
            if child is None:  # the labels' child is the same one each time: kept
                child = self._decided[outcome, reason] = self.decisions.labels(outcome, reason)
            child.inc()
