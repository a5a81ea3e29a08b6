"""Policy's I/O shell around the pure rules: decode -> load window -> decide -> emit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from services.policy import rules
from services.policy.windows import WindowState, observe
from shared import codec, logs
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import deterministic_id
from shared.events.intents import OutboundIntentSubmitted
from shared.events.keys import conversation_key
from shared.events.webhooks import InboundMessageReceived

log = logs.get(__name__)
PRODUCER = "policy"

Emit = Callable[[str, bytes], Awaitable[None]]


class PolicyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.decisions = Counter(
            "wagate_policy_decisions_total",
            "Decisions by outcome and reason.",
            ["outcome", "reason"],
            registry=registry,
        )
        self.windows_updated = Counter(
            "wagate_policy_windows_updated_total",
            "Window refreshes from customer messages.",
            registry=registry,
        )
        self.rerouted = Counter(
            "wagate_policy_intents_rerouted_total",
            "Intents produced with a key other than their conversation.",
            registry=registry,
        )


@dataclass
class PolicyHandlers:
    windows: MutableMapping[str, Any]
    config: rules.PolicyConfig
    metrics: PolicyMetrics
    emit_decision: Emit
    reroute_intent: Emit
    clock: Callable[[], datetime]

    def _window(self, key: str) -> WindowState | None:
        raw = self.windows.get(key)
        return WindowState.model_validate(raw) if raw else None

    def on_inbound(self, message: InboundMessageReceived) -> None:
        key = conversation_key(message.phone_number_id, message.wa_id)
        updated = observe(self._window(key), message)
        if updated is not None:
            self.windows[key] = updated.model_dump(mode="json")
            self.metrics.windows_updated.inc()

    async def on_intent(
        self, intent: OutboundIntentSubmitted, record_key: bytes | None, raw: bytes
    ) -> None:
        key = conversation_key(intent.phone_number_id, intent.to)
        if record_key != key.encode():
            # The window lives on the conversation's partition: decide there, never here.
            log.warning("intent keyed off its conversation, rerouting", intent_id=intent.intent_id)
            self.metrics.rerouted.inc()
            await self.reroute_intent(key, raw)
            return
        verdict = rules.decide(intent, self._window(key), self.clock(), self.config)
        decision = PolicyDecisionMade(
            **intent.caused(event_id=deterministic_id("decision", intent.intent_id)),
            producer=PRODUCER,
            intent=intent,
            outcome=verdict.outcome,
            reasons=verdict.reasons,
            detail=verdict.detail,
            window=verdict.window,
            pricing=verdict.pricing,
            valid_until=verdict.valid_until,
        )
        for reason in verdict.reasons or ["OK"]:
            self.metrics.decisions.labels(verdict.outcome, reason).inc()
        log.info(
            "decided", intent_id=intent.intent_id, outcome=verdict.outcome, reasons=verdict.reasons
        )
        await self.emit_decision(key, codec.encode(decision))
