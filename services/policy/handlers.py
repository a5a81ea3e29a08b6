"""Policy's I/O shell around the pure rules: load state -> decide -> persist/emit, for the
events the agents decoded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from services.policy import (
    caps,
    consent,
    identity,
    rekeyed,
    rules,
    template_check,
    threads,
    tiers,
    windows,
)
from services.policy.accounts import Accounts
from services.policy.announced import Announced
from services.policy.consent_records import ConsentRecords, note_future
from services.policy.customers import Customers, merged
from services.policy.deferrals import Deferrals
from services.policy.expiries import Expiries, Watched
from services.policy.metrics import PolicyMetrics
from services.policy.tables import TABLES, Tables
from services.policy.template_index import TemplateIndex
from services.policy.threads import ThreadState
from services.policy.validated import Validated, read, stored
from services.policy.windows import WindowState
from shared import codec, logs, sealing
from shared.events.account import AccountUpdateReported
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.envelope import deterministic_id
from shared.events.identity import CustomerIdentityChanged
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.keys import conversation_key
from shared.events.preferences import UserPreferenceChanged
from shared.events.reasons import Reason
from shared.events.signals import CallReported, Holder, ThreadControlChanged
from shared.events.template_states import TemplateStateChanged, state_key
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.events.windows import WindowChanged

log = logs.get(__name__)
PRODUCER = "policy"

Emit = Callable[[str, bytes], Awaitable[None]]
SendOn = Callable[[rekeyed.Sent], Awaitable[None]]
_UNSEEN = object()  # no generation seen yet: the first timer tick schedules every window


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
    # Work for another partition goes there (`rekeyed.py`); None: this process holds them all.
    send_on: SendOn | None = None
    _announced: Announced = field(default_factory=Announced)
    _pending: list[rekeyed.Sent] = field(default_factory=list)
    deferrals: Deferrals = field(init=False)
    consent: ConsentRecords = field(init=False)
    template_index: TemplateIndex = field(init=False)
    customers: Customers = field(init=False)
    accounts: Accounts = field(init=False)
    _windows: Validated[WindowState] = field(init=False)
    _templates: Validated[TemplateStateChanged] = field(init=False)
    _threads: Validated[ThreadState] = field(init=False)
    _marketing_logs: Validated[caps.MarketingLog] = field(init=False)
    expiries: Expiries = field(init=False)
    _generation: object = field(init=False, default=_UNSEEN)

    def __post_init__(self) -> None:
        self.expiries = Expiries(self.window)
        self.tables.windows = Watched(self.tables.windows, self.expiries.touched)
        self._windows = Validated(self.tables.windows, WindowState, packed=_packed("windows"))
        self._templates = Validated(self.tables.templates, TemplateStateChanged)
        self._threads = Validated(self.tables.threads, ThreadState)
        self._marketing_logs = Validated(self.tables.marketing, caps.MarketingLog)
        self.accounts = Accounts(self.tables.accounts, self.config)
        self.deferrals = Deferrals(self.tables.deferred, self.release_intent)
        self.consent = ConsentRecords(self.tables.consent, self.config, self.metrics, self.clock)
        self.template_index = TemplateIndex(self.tables.templates)
        moving = [("windows", self.tables.windows), ("marketing", self.tables.marketing)]
        moving += [("reach", self.tables.reach), ("threads", self.tables.threads)]
        self._moving = dict(moving)
        relocate = self._relocate if self.send_on is not None else None
        self.customers = Customers(
            self.tables.identities, moving, self.consent, self.config, relocate
        )

    def window(self, key: str) -> WindowState | None:
        return self._windows.get(key)

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

    async def on_inbound(
        self,
        message: InboundMessageReceived,
        partition: int = 0,
        record_key: bytes | None = None,
        hops: int = 0,
    ) -> None:
        who = [message.wa_id, message.contact_wa_id, message.user_id, message.parent_user_id]
        customer = self._customer(message.phone_number_id, who, record_key, hops)
        key = conversation_key(message.phone_number_id, customer)
        if self._sent_on(key, record_key, hops, "inbound", message):
            return
        now = self.clock()
        at = windows.seen_at(message, now, self.config.clock_skew)
        if at != message.timestamp:
            note_future(self.metrics, "window", message.event_id, message.timestamp, at)
        # on `standby` another handler holds the thread; on `messages` this app answers
        if message.standby or self.tables.threads.get(key) is not None:
            self._thread(key, "agent" if message.standby else "business", at, "customer message")
        if not message.standby or self.config.standby_opens_window:
            before = self.window(key)
            updated = windows.observe(before, message, at)
            await self._window_moved(key, message.phone_number_id, customer, before, updated, now)
        self.consent.on_reply(message, at, partition, customer)

    async def on_call(
        self, call: CallReported, record_key: bytes | None = None, hops: int = 0
    ) -> None:
        """A customer's call, or their accepting the business's, opens or refreshes the window
        as a message does; any other call event changes nothing."""
        if not call.opens_window:
            return
        customer = self._customer(call.phone_number_id, call.identity.identifiers, record_key, hops)
        key = conversation_key(call.phone_number_id, customer)
        if self._sent_on(key, record_key, hops, "call", call):
            return
        now = self.clock()
        at = windows.bounded(call.timestamp, min(call.occurred_at, now), self.config.clock_skew)
        before = self.window(key)
        updated = windows.called(before, at)
        await self._window_moved(key, call.phone_number_id, customer, before, updated, now)

    def on_thread_control(
        self, change: ThreadControlChanged, record_key: bytes | None = None, hops: int = 0
    ) -> None:
        """Meta said who holds the customer's thread now."""
        who = change.identity.identifiers
        customer = self._customer(change.phone_number_id, who, record_key, hops)
        key = conversation_key(change.phone_number_id, customer)
        if self._sent_on(key, record_key, hops, "thread", change):
            return
        now = self.clock()
        at = windows.bounded(change.timestamp, min(change.occurred_at, now), self.config.clock_skew)
        self._thread(key, change.held_by, at, change.change)

    def _customer(
        self,
        phone_number_id: str,
        identifiers: Sequence[str | None],
        record_key: bytes | None,
        hops: int,
    ) -> str:
        """The customer's canonical key. A record sent on here was learned from where it came
        in (this worker's copy of the identities may lag): its key names the customer, unless
        that customer has been absorbed into another since."""
        if hops and record_key is not None:
            _, _, named = record_key.decode().partition(":")
            return self.customers.canonical(phone_number_id, named)
        return self.customers.learn(phone_number_id, identifiers)

    def _sent_on(
        self, key: str, record_key: bytes | None, hops: int, kind: rekeyed.Kind, event: Any
    ) -> bool:
        """The record belongs to the partition of `key`, not the one it came in on: it is sent
        there (True), unless it has been sent on too often already."""
        if self.send_on is None or record_key is None or record_key == key.encode():
            return False
        if hops >= rekeyed.MAX_HOPS:
            log.warning("customer's key kept changing, handled where it came", kind=kind)
            self.metrics.rekeyed.labels(kind, "kept").inc()
            return False
        self._pending.append(rekeyed.Sent(key, kind, codec.encode(event), hops + 1))
        self.metrics.rekeyed.labels(kind, "sent").inc()
        return True

    def _relocate(self, move: rekeyed.Move) -> None:
        key = conversation_key(move.phone_number_id, move.old)
        self._pending.append(rekeyed.Sent(key, "move", rekeyed.encode_move(move), 1))
        self.metrics.rekeyed.labels("move", "sent").inc()

    def on_move(self, move: rekeyed.Move) -> None:
        """The absorbed customer's state with this number, held here, sent on to the key it
        joins."""
        old = conversation_key(move.phone_number_id, move.old)
        target = self.customers.conversation(move.phone_number_id, move.new)
        for name, table in self._moving.items():
            state = table.get(old)
            if state is None:
                continue
            del table[old]
            value = rekeyed.encode_merge(rekeyed.Merge(name, state))
            self._pending.append(rekeyed.Sent(target, "merge", value, 1))
            self.metrics.rekeyed.labels("merge", "sent").inc()

    def on_merge(self, merge: rekeyed.Merge, record_key: bytes, hops: int = 1) -> None:
        """A customer's state from a key they are no longer known by, merged into theirs."""
        table = self._moving.get(merge.table)
        if table is None:
            raise ValueError(f"not a rekeyed merge: no table {merge.table!r} moves")
        named = record_key.decode()
        number, _, customer = named.partition(":")
        key = self.customers.conversation(number, customer)
        if key != named and hops < rekeyed.MAX_HOPS:  # absorbed again meanwhile
            value = rekeyed.encode_merge(merge)
            self._pending.append(rekeyed.Sent(key, "merge", value, hops + 1))
            self.metrics.rekeyed.labels("merge", "sent").inc()
            return
        state = merge.state
        if merge.table == "windows":  # as this table keeps it, whichever way it came
            state = stored(read(WindowState, state), _packed("windows"))
        table[key] = merged(merge.table, table.get(key), state)
        self.metrics.rekeyed.labels("merge", "merged").inc()

    async def flush(self) -> None:
        """Send the work a record left for other partitions, in the order it was left."""
        while self._pending and self.send_on is not None:
            await self.send_on(self._pending.pop(0))

    def _thread(self, key: str, held_by: Holder, at: datetime, signal: str) -> None:
        updated = threads.observe(self._threads.get(key), held_by, at, signal)
        if updated is not None:
            self._threads.put(key, updated)
            self.metrics.threads_updated.labels(held_by).inc()

    async def _window_moved(
        self,
        key: str,
        phone_number_id: str,
        customer: str,
        before: WindowState | None,
        updated: WindowState | None,
        now: datetime,
    ) -> None:
        if updated is None:
            return
        self._windows.put(key, updated)
        self.metrics.windows_updated.inc()
        if windows.opened(before, updated, now):
            await self._announce(key, phone_number_id, customer, updated, "opened")

    def on_status(self, status: MessageStatusReported) -> None:
        """A status naming the customer by phone and BSUID links the two."""
        who = status.identity
        if who is not None and len(who.identifiers) > 1:
            self.customers.learn(status.phone_number_id, who.identifiers)

    def on_account(self, update: AccountUpdateReported) -> None:
        """Meta reported on an account: a portfolio's messaging limit takes effect at once."""
        if self.accounts.on_update(update):
            self.metrics.limits_reported.inc()

    def on_identity(self, change: CustomerIdentityChanged) -> None:
        """Meta names a customer anew: their state follows (`Customers.on_change`)."""
        self.customers.on_change(change)

    async def announce_due(
        self, lead: timedelta, closed_within: timedelta, generation: object = None
    ) -> int:
        """Announce the windows of this worker's partitions that are expiring or closed;
        returns how many changes it announced (each at most once per process). The first
        call, and a call with another `generation` (the worker's assignment changed, its
        tables recovered anew), schedules every window the table holds."""
        if generation != self._generation:
            self._generation = generation
            self.expiries.reload(list(self.tables.windows))
        now = self.clock()
        self._announced.forget_due_by(now)
        count = 0
        for key, state in await self.expiries.due(now, lead):
            for change in windows.due_changes(state, now, lead, closed_within):
                phone_number_id, _, wa_id = str(key).partition(":")
                count += await self._announce(
                    key, phone_number_id, wa_id, state, change, closed_within
                )
        return count

    async def _announce(
        self,
        key: str,
        phone_number_id: str,
        wa_id: str,
        state: WindowState,
        change: str,
        closed_within: timedelta = timedelta(),
    ) -> int:
        """Announce `change` unless this process already did; it is remembered while it could
        still be due (until the window ends, and a `closed` one `closed_within` after that)."""
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
        self._announced.add(event_id, windows.due_until(state.expires_at, change, closed_within))
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
        return self._templates.get(key)

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
            marketing=self._marketing(key, intent),
            templates=self._template,
            template_languages=self.template_index.languages,
            reach=self._reach(intent.phone_number_id, reached_at, partition, now),
            reached_at=reached_at,
            phone=self.customers.phone(intent.phone_number_id, customer),
            thread=self._threads.get(key),
        )
        verdict = rules.decide(intent, facts, now, self.config)
        if verdict.outcome == "approved":
            self._remember_approval(key, facts, verdict, now)
            if verdict.business_initiated and not facts.reach.counted_recently:
                self._count_reach(key, intent.phone_number_id, partition, now)
            if verdict.takes_thread:
                self._thread(key, "business", now, "take_control")
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
            template_category=verdict.category if verdict.outcome == "approved" else None,
        )
        self.metrics.decided(verdict.outcome, verdict.reasons)
        # every stop is logged; an approval is a debug line (the decision on its topic says it,
        # and a line for each was a sixth of a decision's time under load)
        logged = log.debug if verdict.outcome == "approved" else log.info
        logged(
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
            if components != intent.content.components:  # an equal copy would show the same
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
            if components != intent.fallback_template.components:
                changes["fallback_template"] = intent.fallback_template.model_copy(
                    update={"components": components}
                )
        return (intent.model_copy(update=changes) if changes else intent), sealed

    def _category_of(self, phone_number_id: str, content: TemplateContent) -> str:
        """The template's category as the table knows it; unknown counts as AUTHENTICATION,
        so every body and button value of a template policy cannot place stays redacted."""
        waba = self.config.waba_for(phone_number_id)
        language = template_check.normalize_language(content.language)
        state = self._template(state_key(waba, content.name, language))
        return state.category if state is not None else "AUTHENTICATION"

    def _marketing(self, key: str, intent: OutboundIntentSubmitted) -> caps.MarketingLog | None:
        """The customer's marketing log; an intent back after Meta's 131049 holds it first."""
        kept = self._marketing_logs.get(key)
        log_now = rules.marketing_log(intent, kept, self.config)
        if log_now is not None and log_now != kept:
            self._marketing_logs.put(key, log_now)
        return log_now

    def _reach(
        self, phone_number_id: str, reached_at: datetime | None, partition: int, now: datetime
    ) -> tiers.Reach:
        """The share of the number's portfolio limit (as Meta last reported it) here."""
        limit = self.accounts.limit_for(phone_number_id)
        counts = self.tables.limits.get(self._limits_key(phone_number_id, partition)) or {}
        return tiers.Reach(
            share=tiers.share(limit, self.config.partitions, partition),
            used=tiers.used(counts, now),
            counted_recently=tiers.counted_recently(reached_at, now),
        )

    def _limits_key(self, phone_number_id: str, partition: int) -> str:
        """The `limits` table's key: one portfolio's counts in one conversation partition
        (the default portfolio's keep their older key)."""
        portfolio = self.config.portfolio_for(phone_number_id)
        if portfolio == self.config.consent.default_portfolio_id:
            return _limits_key(partition)
        return f"{portfolio}|{_limits_key(partition)}"

    def _count_reach(self, key: str, phone_number_id: str, partition: int, now: datetime) -> None:
        limits_key = self._limits_key(phone_number_id, partition)
        self.tables.limits[limits_key] = tiers.count(self.tables.limits.get(limits_key) or {}, now)
        self.tables.reach[key] = now.isoformat()

    def _remember_approval(
        self, key: str, facts: rules.Facts, verdict: rules.Verdict, now: datetime
    ) -> None:
        if verdict.marketing:
            self._marketing_logs.put(key, caps.sent(facts.marketing, now))
        if facts.window is not None and not verdict.receipt:
            opened = windows.business_replied(facts.window, now)
            if opened is not None:
                self._windows.put(key, opened)


def _withheld(intent: OutboundIntentSubmitted) -> OutboundIntentSubmitted:
    changes: dict[str, Any] = {}
    if isinstance(intent.content, TemplateContent):
        changes["content"] = intent.content.model_copy(update={"components": []})
    if intent.fallback_template is not None:
        changes["fallback_template"] = intent.fallback_template.model_copy(
            update={"components": []}
        )
    return intent.model_copy(update=changes)


def _packed(table: str) -> bool:
    return next(spec for spec in TABLES if spec.name == table).packed


def _limits_key(partition: int) -> str:
    """The `limits` table's key: the counts of one conversation partition."""
    return f"partition:{partition}"


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
