"""What a chaos run found, counted from the delivery updates the business received and from
what the sandbox saw: the figures `make chaos` prints and the small run asserts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.events.delivery import TERMINAL_STATES, DeliveryUpdated
from shared.events.reasons import Reason
from tests.chaos.workload import Expected

FINAL = frozenset({"rejected", "expired", "failed", "delivered"})
"""Outcomes of which an intent has one (`read` may follow `delivered`)."""


@dataclass
class Tally:
    """Every delivery update of the run's intents, each event once (redeliveries dropped)."""

    intents: list[str]
    expected: Mapping[str, Expected] = field(default_factory=dict)
    states: dict[str, list[str]] = field(default_factory=dict)
    unconfirmed: set[str] = field(default_factory=set)
    refusals: dict[str, set[str]] = field(default_factory=dict)  # reasons of `rejected`
    _events: set[str] = field(default_factory=set)

    def add(self, update: DeliveryUpdated) -> None:
        if update.event_id in self._events:
            return
        self._events.add(update.event_id)
        self.states.setdefault(update.intent_id, []).append(update.state)
        if Reason.OUTCOME_UNCONFIRMED in update.reasons:
            self.unconfirmed.add(update.intent_id)
        if update.state == "rejected":
            self.refusals.setdefault(update.intent_id, set()).update(update.reasons)

    def ended(self, intent_id: str) -> list[str]:
        return [s for s in self.states.get(intent_id, []) if s in TERMINAL_STATES]

    def settled(self, intent_id: str) -> bool:
        """A terminal outcome, or wagate's word that the outcome cannot be known."""
        return bool(self.ended(intent_id)) or intent_id in self.unconfirmed

    def doubled(self, intent_id: str) -> bool:
        """The business heard one state of the intent twice, as two different events (a
        redelivered event, same id, is not counted: the client drops it)."""
        seen = [s for s in self.states.get(intent_id, []) if s in TERMINAL_STATES or s == "sent"]
        return len(seen) != len(set(seen))

    def wrong(self, intent_id: str, accepted: Mapping[str, int]) -> bool:
        """Policy should have refused it, and the Cloud API took it or it was refused for
        a reason the rule did not call for."""
        rule = self.expected.get(intent_id)
        if rule is None or rule.sent:
            return False
        refused = self.refusals.get(intent_id)
        ended = self.ended(intent_id)
        return (
            intent_id in accepted
            or bool(ended and "rejected" not in ended)
            or (refused is not None and not refused & rule.reasons)
        )

    def refused_though_allowed(self, intent_id: str) -> bool:
        """The rule allowed the send, and wagate refused it (a fault fails a send, never
        refuses it: only a rejection counts)."""
        rule = self.expected.get(intent_id)
        return rule is not None and rule.sent and intent_id in self.refusals

    def done(self) -> bool:
        return all(self.settled(i) for i in self.intents)

    def figures(self, accepted: Mapping[str, int], violations: int) -> dict[str, int]:
        """lost: no outcome at all; sent twice: Meta accepted it more than once; ended twice:
        two different terminal updates; webhook events doubled: one state heard twice as two
        events (a webhook doubled into the business's stream); webhook events missing: an
        intent the Cloud API accepted still unconfirmed (its status never applied); wrong outcome:
        sent or refused otherwise than the rule calls for a refusal; refused though
        allowed: a rejection of a send the rule allowed."""
        outcomes = Counter(self.ended(i)[-1] if self.ended(i) else "unconfirmed"
                           for i in self.intents if self.settled(i))  # fmt: skip
        still_unknown = {i for i in self.unconfirmed if not self.ended(i)}
        return {
            "submitted": len(self.intents),
            **{f"outcome {k}": v for k, v in sorted(outcomes.items())},
            "lost": sum(not self.settled(i) for i in self.intents),
            "sent twice": sum(n > 1 for n in accepted.values()),
            "ended twice": sum(len(set(self.ended(i)) & FINAL) > 1 for i in self.intents),
            "webhook events doubled": sum(self.doubled(i) for i in self.intents),
            "webhook events missing": len(still_unknown & set(accepted)),
            "wrong outcome": sum(self.wrong(i, accepted) for i in self.intents),
            "refused though allowed": sum(self.refused_though_allowed(i) for i in self.intents),
            "violations": violations,
        }


def table(figures: Mapping[str, int], seed: int, extra: Iterable[tuple[str, str]] = ()) -> str:
    """One table of a run's figures, its seed first so that a failure can be replayed."""
    rows = [("seed", str(seed)), *((k, str(v)) for k, v in figures.items()), *extra]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows)


MUST_BE_ZERO = (
    "lost", "sent twice", "ended twice", "webhook events doubled", "webhook events missing",
    "wrong outcome", "refused though allowed", "violations",
)  # fmt: skip
