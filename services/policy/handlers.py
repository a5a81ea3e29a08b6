"""Policy's I/O shell around the pure rules: load state -> decide -> persist/emit, for the
events the agents decoded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from services.policy import caps, consent, identity, rules, template_check, tiers, windows
from services.policy.consent_records import ConsentRecords, note_future
from services.policy.customers import Customers
from services.policy.deferrals import Deferrals
from services.policy.metrics import PolicyMetrics
from services.policy.tables import Tables
from services.policy.template_index import TemplateIndex
from services.policy.windows import WindowState
from shared import codec, logs, sealing
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import deterministic_id
from shared.events.identity import CustomerIdentityChanged
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.keys import conversation_key
from shared.events.preferences import UserPreferenceChanged
from shared.events.reasons import Reason
from shared.events.template_states import TemplateStateChanged, state_key
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
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
    _announced: set[str] = field(default_factory=set)
    deferrals: Deferrals = field(init=False)
    consent: ConsentRecords = field(init=False)
    template_index: TemplateIndex = field(init=False)
    customers: Customers = field(init=False)

    def __post_init__(self) -> None:
        self.deferrals = Deferrals(self.tables.deferred, self.release_intent)
        self.consent = ConsentRecords(self.tables.consent, self.config, self.metrics, self.clock)
        self.template_index = TemplateIndex(self.tables.templates)
        moving = [("windows", self.tables.windows), ("marketing", self.tables.marketing)]
        moving.append(("reach", self.tables.reach))
        self.customers = Customers(self.tables.identities, moving, self.consent, self.config)

    def window(self, key: str) -> WindowState | None:
        return _load(self.tables.windows, key, WindowState)

    def window_view(self, phone_number_id: str, wa_id: str) -> dict[str, Any]:
        """The window as `GET /windows/...` shows it (this worker's partitions)."""
        now = self.clock()
        state = self.window(self.customers.conversation(phone_number_id, wa_id))
        snap = rules.snapshot(state, now)
        return {
            **snap.model_dump(mode="json"),
            "free_entry_point": bool(state and state.in_free_entry_point(now)),
            "free_entry_until": state.free_entry_until.isoformat()
            if state and state.free_entry_until
            else None,
        }

    def consent_view(self, phone_number_id: str, wa_id: str) -> dict[str, Any]:
        """The customer's consent with the business of this number, as `GET /consent/...`
        shows it: the facts, and whether a template of each category may go now."""
        state = self.consent.view(phone_number_id, self.customers.canonical(phone_number_id, wa_id))
        stance = consent.stance(state, self.config.consent)
        return {
            **state.model_dump(mode="json"),
            "templates": stance,
            "marketing_allowed": stance[consent.MARKETING]["allowed"],
        }

    async def on_inbound(self, message: InboundMessageReceived, partition: int = 0) -> None:
        who = [message.wa_id, message.contact_wa_id, message.user_id, message.parent_user_id]
        customer = self.customers.learn(message.phone_number_id, who)
        key = conversation_key(message.phone_number_id, customer)
        now = self.clock()
        at = windows.seen_at(message, now, self.config.clock_skew)
        if at != message.timestamp:
            note_future(self.metrics, "window", message.event_id, message.timestamp, at)
        before = self.window(key)
        updated = windows.observe(before, message, at)
        if updated is not None:
            self.tables.windows[key] = updated.model_dump(mode="json")
            self.metrics.windows_updated.inc()
            if windows.opened(before, updated, now):
                await self._announce(key, message.phone_number_id, customer, updated, "opened")
        self.consent.on_reply(message, at, partition, customer)

    def on_status(self, status: MessageStatusReported) -> None:
        """A status naming the customer by phone and BSUID links the two."""
        who = status.identity
        if who is not None and len(who.identifiers) > 1:
            self.customers.learn(status.phone_number_id, who.identifiers)

    def on_identity(self, change: CustomerIdentityChanged) -> None:
        """Meta names a customer anew: their state follows (`Customers.on_change`)."""
        self.customers.on_change(change)

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

    def on_consent(self, change: ConsentChanged, partition: int = 0) -> None:
        customer = self.customers.canonical_for(
            change.phone_number_id, change.waba_id, change.customer
        )
        self.consent.on_consent(change, partition, customer)

    def on_preference(self, change: UserPreferenceChanged, partition: int = 0) -> None:
        customer = self.customers.learn(change.phone_number_id, change.identity.identifiers)
        self.consent.on_preference(change, partition, customer)

    def on_template_state(self, state: TemplateStateChanged) -> None:
        known = self.tables.templates.get(state.key)
        if known is not None and int(known.get("version", 0)) > state.version:
            return
        self.tables.templates[state.key] = state.model_dump(mode="json")
        self.metrics.templates_updated.inc()

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
        customer = self.customers.canonical(intent.phone_number_id, intent.customer)
        key = conversation_key(intent.phone_number_id, customer)
        if record_key != key.encode():
            # The window lives on the conversation's partition: decide there, never here.
            log.warning("intent keyed off its conversation, rerouting", intent_id=intent.intent_id)
            self.metrics.rerouted.inc()
            await self.reroute_intent(key, raw)
            return
        decision_id = deterministic_id("decision", intent.intent_id)
        if intent.redecision is not None:  # handed back by dispatch: a decision of its own
            decision_id = deterministic_id(
                "decision", intent.intent_id, "redecision", str(intent.redecision.count)
            )
        if released:
            release_at = self.deferrals.take(key, intent.intent_id)
            if release_at is None:
                return  # released before: decided then
            decision_id = deterministic_id("decision", intent.intent_id, "released", release_at)
        now = self.clock()
        reached_at = _time(self.tables.reach.get(key))  # read once: the count and its edge
        facts = rules.Facts(
            window=self.window(key),
            consent=self.consent.view(intent.phone_number_id, customer),
            marketing=_load(self.tables.marketing, key, caps.MarketingLog),
            templates=self._template,
            template_languages=self.template_index.languages,
            reach=self._reach(reached_at, partition, now),
            reached_at=reached_at,
            phone=self.customers.phone(intent.phone_number_id, customer),
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
            resubmit=self.sealer.seal({"intent": raw.decode()})
            if verdict.outcome == "approved"
            else None,
            address=identity.address_for(intent, facts.phone, verdict.category)
            if verdict.outcome == "approved"
            else None,
            customer_key=customer,
        )
        self.metrics.decided(verdict.outcome, verdict.reasons)
        log.info(
            "decided", intent_id=intent.intent_id, outcome=verdict.outcome, reasons=verdict.reasons
        )
        await self.emit_decision(key, codec.encode(decision))

    async def on_intent_failed(self, intent: OutboundIntentSubmitted, reason: str) -> None:
        """Deciding the intent failed: it ends rejected with INTERNAL_ERROR (its record goes to
        the dead-letter topic). Its template parameters are withheld, never shown in clear."""
        key = conversation_key(intent.phone_number_id, intent.customer)
        decision = PolicyDecisionMade(
            **intent.caused(event_id=deterministic_id("decision", intent.intent_id, "failed")),
            producer=PRODUCER,
            intent=_withheld(intent),
            outcome="rejected",
            reasons=[Reason.INTERNAL_ERROR],
            detail=f"policy could not decide this intent ({reason}); the intent is on the "
            "dead-letter topic",
        )
        self.metrics.decided(decision.outcome, decision.reasons)
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
            # never sent from here (a fallback goes only as a decision of its own), so its
            # values are shown redacted by its own template's category, and kept nowhere else
            own = rules.is_sensitive(
                self._category_of(intent.phone_number_id, intent.fallback_template)
            )
            components, _ = sealing.redact(intent.fallback_template.components, own)
            changes["fallback_template"] = intent.fallback_template.model_copy(
                update={"components": components}
            )
        return intent.model_copy(update=changes), sealed

    def _category_of(self, phone_number_id: str, content: TemplateContent) -> str:
        """The template's category as the table knows it; unknown counts as AUTHENTICATION,
        so every body and button value of a template policy cannot place stays redacted."""
        waba = self.config.waba_for(phone_number_id)
        language = template_check.normalize_language(content.language)
        state = self._template(state_key(waba, content.name, language))
        return state.category if state is not None else "AUTHENTICATION"

    def _reach(self, reached_at: datetime | None, partition: int, now: datetime) -> tiers.Reach:
        return tiers.Reach(
            share=tiers.share(self.config.messaging_limit, self.config.partitions, partition),
            used=tiers.used(self.tables.limits.get(_limits_key(partition)) or {}, now),
            counted_recently=tiers.counted_recently(reached_at, now),
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


def _withheld(intent: OutboundIntentSubmitted) -> OutboundIntentSubmitted:
    changes: dict[str, Any] = {}
    if isinstance(intent.content, TemplateContent):
        changes["content"] = intent.content.model_copy(update={"components": []})
    if intent.fallback_template is not None:
        changes["fallback_template"] = intent.fallback_template.model_copy(
            update={"components": []}
        )
    return intent.model_copy(update=changes)


def _limits_key(partition: int) -> str:
    """The `limits` table's key: the counts of one conversation partition."""
    return f"partition:{partition}"


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


M = TypeVar("M", WindowState, caps.MarketingLog, TemplateStateChanged)


def _load(table: Mapping[str, Any], key: str, model: type[M]) -> M | None:
    raw = table.get(key)
    return model.model_validate(raw) if raw else None
