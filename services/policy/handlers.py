"""Policy's I/O shell around the pure rules: load state -> decide -> persist/emit, for the
events the agents decoded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from services.policy import caps, consent, rules, tiers, windows
from services.policy.consent import DEFAULT_START_WORDS, DEFAULT_STOP_WORDS, ConsentState
from services.policy.deferrals import Deferrals
from services.policy.metrics import PolicyMetrics
from services.policy.tables import Tables
from services.policy.windows import WindowState
from shared import codec, logs, sealing
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import deterministic_id
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.keys import conversation_key
from shared.events.preferences import UserPreferenceChanged
from shared.events.template_states import TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived
from shared.events.windows import WindowChanged

log = logs.get(__name__)
PRODUCER = "policy"

Emit = Callable[[str, bytes], Awaitable[None]]


@dataclass
class PolicyHandlers:
    tables: Tables
    config: rules.PolicyConfig
    metrics: PolicyMetrics
    emit_decision: Emit
    reroute_intent: Emit
    emit_window: Emit
    release_intent: Emit
    clock: Callable[[], datetime]
    sealer: sealing.Sealer
    stop_words: frozenset[str] = DEFAULT_STOP_WORDS
    start_words: frozenset[str] = DEFAULT_START_WORDS
    _announced: set[str] = field(default_factory=set)
    deferrals: Deferrals = field(init=False)

    def __post_init__(self) -> None:
        self.deferrals = Deferrals(self.tables.deferred, self.release_intent)

    def window(self, key: str) -> WindowState | None:
        return _load(self.tables.windows, key, WindowState)

    def consent_of(self, key: str) -> ConsentState | None:
        return _load(self.tables.consent, key, ConsentState)

    def window_view(self, phone_number_id: str, wa_id: str) -> dict[str, Any]:
        """The window as `GET /windows/...` shows it (this worker's partitions)."""
        now = self.clock()
        state = self.window(conversation_key(phone_number_id, wa_id))
        snap = rules.snapshot(state, now)
        return {
            **snap.model_dump(mode="json"),
            "free_entry_point": bool(state and state.in_free_entry_point(now)),
            "free_entry_until": state.free_entry_until.isoformat()
            if state and state.free_entry_until
            else None,
        }

    def consent_view(self, phone_number_id: str, wa_id: str) -> dict[str, Any]:
        state = self.consent_of(conversation_key(phone_number_id, wa_id)) or ConsentState()
        return {
            **state.model_dump(mode="json"),
            "marketing_allowed": state.marketing_allowed(),
            "opted_out_of_all": state.opted_out_of_all(),
        }

    async def on_inbound(self, message: InboundMessageReceived) -> None:
        key = conversation_key(message.phone_number_id, message.wa_id)
        before = self.window(key)
        updated = windows.observe(before, message)
        if updated is not None:
            self.tables.windows[key] = updated.model_dump(mode="json")
            self.metrics.windows_updated.inc()
            if windows.opened(before, updated, self.clock()):
                await self._announce(key, message.phone_number_id, message.wa_id, updated, "opened")
        if message.message_type in ("text", "button"):
            word = message.text or str(message.content.get("text") or "")
            opted_in = consent.keyword(word, self.stop_words, self.start_words)
            if opted_in is not None:
                self._consent(key, consent.MARKETING, opted_in, message.timestamp, "keyword")

    async def announce_due(self, lead: timedelta, closed_within: timedelta) -> int:
        """Announce the windows of this worker's partitions that are expiring or closed;
        returns how many changes it announced (each at most once per process)."""
        now = self.clock()
        count = 0
        for key, raw in list(self.tables.windows.items()):
            state = WindowState.model_validate(raw)
            for change in windows.due_changes(state, now, lead, closed_within):
                phone_number_id, _, wa_id = str(key).partition(":")
                count += await self._announce(key, phone_number_id, wa_id, state, change)
        return count

    async def _announce(
        self, key: str, phone_number_id: str, wa_id: str, state: WindowState, change: str
    ) -> int:
        assert state.last_customer_message_at is not None and state.expires_at is not None
        event_id = deterministic_id("window", key, change, state.expires_at.isoformat())
        if event_id in self._announced:
            return 0
        event = WindowChanged(
            event_id=event_id,
            producer=PRODUCER,
            phone_number_id=phone_number_id,
            wa_id=wa_id,
            change=change,
            last_customer_message_at=state.last_customer_message_at,
            expires_at=state.expires_at,
        )
        await self.emit_window(key, codec.encode(event))
        self._announced.add(event_id)
        self.metrics.window_changes.labels(change).inc()
        return 1

    def on_consent(self, change: ConsentChanged) -> None:
        key = conversation_key(change.phone_number_id, change.customer)
        self._consent(key, change.category, change.opted_in, change.occurred_at, change.source)

    def on_preference(self, change: UserPreferenceChanged) -> None:
        opted_in = consent.preference(change.value)
        if opted_in is not None:
            key = conversation_key(change.phone_number_id, change.wa_id)
            self._consent(key, change.category, opted_in, change.timestamp, "user_preferences")

    def on_template_state(self, state: TemplateStateChanged) -> None:
        known = self.tables.templates.get(state.key)
        if known is not None and int(known.get("version", 0)) > state.version:
            return
        self.tables.templates[state.key] = state.model_dump(mode="json")
        self.metrics.templates_updated.inc()

    def _consent(self, key: str, category: str, opted_in: bool, at: datetime, source: str) -> None:
        updated = consent.record(self.consent_of(key), category, opted_in, at, source)
        if updated is not None:
            self.tables.consent[key] = updated.model_dump(mode="json")
            self.metrics.consent_updated.labels(source.split(":")[0]).inc()

    def _template(self, key: str) -> TemplateStateChanged | None:
        return _load(self.tables.templates, key, TemplateStateChanged)

    async def on_intent(
        self,
        intent: OutboundIntentSubmitted,
        record_key: bytes | None,
        raw: bytes,
        released: bool = False,
        partition: int = 0,
    ) -> None:
        key = conversation_key(intent.phone_number_id, intent.to)
        if record_key != key.encode():
            # The window lives on the conversation's partition: decide there, never here.
            log.warning("intent keyed off its conversation, rerouting", intent_id=intent.intent_id)
            self.metrics.rerouted.inc()
            await self.reroute_intent(key, raw)
            return
        decision_id = deterministic_id("decision", intent.intent_id)
        if released:
            release_at = self.deferrals.take(key, intent.intent_id)
            if release_at is None:
                return  # released before: decided then
            decision_id = deterministic_id("decision", intent.intent_id, "released", release_at)
        now = self.clock()
        facts = rules.Facts(
            window=self.window(key),
            consent=self.consent_of(key),
            marketing=_load(self.tables.marketing, key, caps.MarketingLog),
            templates=self._template,
            reach=self._reach(key, partition, now),
        )
        verdict = rules.decide(intent, facts, now, self.config)
        if verdict.outcome == "approved":
            self._remember_approval(key, facts, verdict, now)
            if verdict.business_initiated and not facts.reach.counted_recently:
                self._count_reach(key, partition, now)
        elif verdict.outcome == "deferred" and verdict.valid_until is not None:
            self.deferrals.hold(key, intent.intent_id, verdict.valid_until, raw)
        shown, sealed = self._redacted(verdict.send or intent, verdict)
        decision = PolicyDecisionMade(
            **intent.caused(event_id=decision_id),
            producer=PRODUCER,
            intent=shown,
            sealed=sealed,
            outcome=verdict.outcome,
            reasons=verdict.reasons,
            detail=verdict.detail,
            window=verdict.window,
            pricing=verdict.pricing,
            valid_until=verdict.valid_until,
        )
        self.metrics.decided(verdict.outcome, verdict.reasons)
        log.info(
            "decided", intent_id=intent.intent_id, outcome=verdict.outcome, reasons=verdict.reasons
        )
        await self.emit_decision(key, codec.encode(decision))

    def _redacted(
        self, intent: OutboundIntentSubmitted, verdict: rules.Verdict
    ) -> tuple[OutboundIntentSubmitted, str | None]:
        """The intent with sensitive values redacted, and those to be sent, sealed."""
        check = rules.is_sensitive(verdict.category)
        changes: dict[str, Any] = {}
        sealed = None
        if isinstance(intent.content, TemplateContent):
            components, values = sealing.redact(intent.content.components, check)
            changes["content"] = intent.content.model_copy(update={"components": components})
            if values and verdict.outcome == "approved":
                sealed = self.sealer.seal(values)
        if intent.fallback_template is not None:
            components, _ = sealing.redact(intent.fallback_template.components, check)
            changes["fallback_template"] = intent.fallback_template.model_copy(
                update={"components": components}
            )
        return intent.model_copy(update=changes), sealed

    def _reach(self, key: str, partition: int, now: datetime) -> tiers.Reach:
        last = self.tables.reach.get(key)
        return tiers.Reach(
            share=tiers.share(self.config.messaging_limit, self.config.partitions, partition),
            used=tiers.used(self.tables.limits.get(_limits_key(partition)) or {}, now),
            counted_recently=tiers.counted_recently(
                datetime.fromisoformat(last) if last else None, now
            ),
        )

    def _count_reach(self, key: str, partition: int, now: datetime) -> None:
        limits_key = _limits_key(partition)
        self.tables.limits[limits_key] = tiers.count(self.tables.limits.get(limits_key) or {}, now)
        self.tables.reach[key] = now.isoformat()

    def _remember_approval(
        self, key: str, facts: rules.Facts, verdict: rules.Verdict, now: datetime
    ) -> None:
        if verdict.marketing:
            self.tables.marketing[key] = caps.sent(facts.marketing, now).model_dump(mode="json")
        if facts.window is not None:
            opened = windows.business_replied(facts.window, now)
            if opened is not None:
                self.tables.windows[key] = opened.model_dump(mode="json")


def _limits_key(partition: int) -> str:
    """The `limits` table's key: the counts of one conversation partition."""
    return f"partition:{partition}"


M = TypeVar("M", WindowState, ConsentState, caps.MarketingLog, TemplateStateChanged)


def _load(table: Mapping[str, Any], key: str, model: type[M]) -> M | None:
    raw = table.get(key)
    return model.model_validate(raw) if raw else None
