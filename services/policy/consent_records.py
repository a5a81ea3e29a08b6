"""The consent table and what fills it: business consent events, Meta's refusals (131050, from
dispatch), `user_preferences`, customers' replies, each turned into facts by the pure rules of
`consent.py` and kept.

Consent belongs to a business (its WABA, or its portfolio), so every worker must read every
record: the table is global. Each record is kept per (business, customer, partition that wrote
it), so every record has one writer and its changelog one order; a decision merges the records
of its customer. Records of the shape kept before, per business number (`phone_number_id:wa_id`),
are still read, for that number and for every number the settings place in the same business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from datetime import datetime
from operator import is_
from typing import Any

from services.policy import consent, windows
from services.policy.consent import Change, ConsentState, Opinion
from services.policy.errors import UnusableFact
from services.policy.metrics import PolicyMetrics
from services.policy.rules import PolicyConfig
from services.policy.validated import KEEP, Validated
from shared import logs
from shared.events.consent import ConsentChanged
from shared.events.keys import conversation_key, normalize_wa_id
from shared.events.preferences import UserPreferenceChanged
from shared.events.webhooks import InboundMessageReceived

log = logs.get(__name__)
META_REPORTED = "send_error:"  # the source dispatch gives what Meta's refusals reveal (131050)


class ConsentRecords:
    def __init__(
        self,
        table: MutableMapping[str, Any],
        config: PolicyConfig,
        metrics: PolicyMetrics,
        clock: Callable[[], datetime],
    ) -> None:
        self._table = table
        self._records = Validated(table, ConsentState)
        self._views: dict[tuple[str, str], tuple[tuple[Any, ...], ConsentState]] = {}
        self._keys: dict[tuple[str, str], tuple[str, str, tuple[str, ...]]] = {}
        self._config = config
        self._metrics = metrics
        self._clock = clock

    def view(self, phone_number_id: str, customer: str) -> ConsentState:
        """Everything known about this customer and the business of this number."""
        scope, who, keys = self._keys.get((phone_number_id, customer)) or self._keys_of(
            phone_number_id, customer
        )
        raws = tuple(map(self._table.get, keys))
        seen = self._views.get((scope, who))
        if seen is not None and _same(seen[0], raws):
            return seen[1]  # the same stored records (by identity): the same view
        state = consent.merge((s for s in map(self._load, keys) if s is not None), scope)
        if len(self._views) >= KEEP:
            self._views.clear()
        self._views[(scope, who)] = (raws, state)
        return state

    def _keys_of(self, phone_number_id: str, customer: str) -> tuple[str, str, tuple[str, ...]]:
        """The business, the customer's spelling and the keys of every record a view of them
        through this number reads: the same for as long as the settings are (kept)."""
        scope, who = self.scope_of(phone_number_id), normalize_wa_id(customer)
        keys = [_key(scope, who, p) for p in range(self._config.partitions)]
        keys += [conversation_key(n, who) for n in self._numbers(scope, phone_number_id)]
        found = (scope, who, tuple(keys))
        if len(self._keys) >= KEEP:
            self._keys.clear()
        self._keys[(phone_number_id, customer)] = found
        return found

    def on_consent(self, change: ConsentChanged, partition: int, customer: str = "") -> None:
        """A business's opt-in or opt-out, or Meta's refusal reported by dispatch (131050); a
        fact policy cannot use raises UnusableFact (a dead letter)."""
        at = windows.bounded(change.occurred_at, self._clock(), self._config.clock_skew)
        if at != change.occurred_at:
            note_future(self._metrics, "consent", change.event_id, change.occurred_at, at)
        evidence = f"consent event {change.event_id} from {change.producer}"
        if change.intent_id:
            evidence += f", intent {change.intent_id}"
        fact = Opinion(opted_in=change.opted_in, at=at, source=change.source, evidence=evidence)
        scope = self.scope_named(change.phone_number_id, change.waba_id)
        if change.source.startswith(META_REPORTED):
            self._record(
                scope,
                customer or change.customer,
                partition,
                consent.meta_stop(change.category, fact),
                "send_error",
            )
            return
        try:
            changes = consent.business_word(change.category, fact)
        except consent.UnknownCategory as exc:
            raise UnusableFact(str(exc)) from exc
        self._record(scope, customer or change.customer, partition, changes, "business")

    def on_preference(
        self, change: UserPreferenceChanged, partition: int, customer: str = ""
    ) -> None:
        """Meta's `user_preferences`: the customer stopped or resumed marketing."""
        resumed = consent.preference_value(change.value)
        if resumed is None:
            log.info("user preference value not known, kept unread", value=change.value[:40])
            return
        received = min(change.occurred_at, self._clock())
        at = windows.bounded(change.timestamp, received, self._config.clock_skew)
        if at != change.timestamp:
            note_future(self._metrics, "consent", change.event_id, change.timestamp, at)
        fact = Opinion(
            opted_in=resumed,
            at=at,
            source="user_preferences",
            evidence=f"user_preferences webhook {change.event_id} via {change.phone_number_id}",
        )
        changes = consent.preference(change.category, resumed, fact)
        scope = self._scope_reported(change.phone_number_id, change.waba_id)
        self._record(scope, customer or change.customer, partition, changes, "user_preferences")

    def on_reply(
        self, message: InboundMessageReceived, at: datetime, partition: int, customer: str = ""
    ) -> None:
        """A customer's message written at `at` that stops (a keyword, an opt-out quick reply)
        or lifts a stop (START)."""
        how, words = consent.reply_words(message)
        if not words:
            return
        evidence = f"message {message.message_id} to {message.phone_number_id}"
        said = Opinion(opted_in=False, at=at, source=how, evidence=evidence)
        changes = consent.reply(words, self._config.consent, said)
        if changes:
            scope = self._scope_reported(message.phone_number_id, message.waba_id)
            who = customer or message.customer
            self._record(scope, who, partition, changes, how.replace(" ", "_"))

    def scopes_of_portfolio(self, portfolio: str) -> list[str]:
        """Every consent scope of the portfolio's businesses the settings know."""
        rules = self._config.consent
        wabas = {*self._config.waba_ids.values(), self._config.default_waba_id}
        mine = [
            w for w in wabas if rules.portfolio_ids.get(w, rules.default_portfolio_id) == portfolio
        ]
        return sorted({rules.scope_of(w) for w in mine})

    def move(self, scope: str, old: str, new: str) -> None:
        """The consent records of customer `old` with this business, now `new`'s (merged with
        what `new` has: per fact, the one that replaces the other)."""
        for partition in range(self._config.partitions):
            source = _key(scope, old, partition)
            moved = self._load(source)
            if moved is None:
                continue
            target = _key(scope, new, partition)
            kept = self._load(target)
            together = moved if kept is None else consent.merge([kept, moved])
            self._table[target] = together.stored()
            del self._table[source]

    def scope_of(self, phone_number_id: str) -> str:
        """The business of a number, as the settings place it."""
        return self._config.consent.scope_of(self._config.waba_for(phone_number_id))

    def scope_named(self, phone_number_id: str, waba_id: str | None) -> str:
        """The business a consent event names; a WABA policy does not know, or one its
        settings do not place the number in, is refused rather than kept where no decision
        would ever read it."""
        if not waba_id:
            return self.scope_of(phone_number_id)
        config = self._config
        if phone_number_id and config.waba_for(phone_number_id) != waba_id:
            raise UnusableFact(
                f"business number {phone_number_id} belongs to WABA "
                f"{config.waba_for(phone_number_id)} in policy's settings, not {waba_id}"
            )
        if waba_id not in {*config.waba_ids.values(), config.default_waba_id}:
            raise UnusableFact(
                f"WABA {waba_id} is not in policy's settings (waba_ids, default_waba_id)"
            )
        return config.consent.scope_of(waba_id)

    def _scope_reported(self, phone_number_id: str, waba_id: str | None) -> str:
        """The business of a number Meta reported on: the settings decide, as for decisions;
        a WABA Meta names otherwise is logged (the settings need that number)."""
        configured = self._config.waba_for(phone_number_id)
        if waba_id and waba_id != configured:
            log.warning(
                "Meta places the number in a WABA the settings do not",
                phone_number_id=phone_number_id,
                waba_id=waba_id,
                configured=configured,
            )
        return self.scope_of(phone_number_id)

    def _record(
        self, scope: str, customer: str, partition: int, changes: Iterable[Change], origin: str
    ) -> None:
        """Keep the changes in this partition's record (nothing when none is newer)."""
        who = normalize_wa_id(customer)
        if not who:
            raise UnusableFact(f"customer {customer[:40]!r} is not a WhatsApp id (no digits)")
        key = _key(scope, who, partition)
        updated = consent.record(self._load(key), changes)
        if updated is not None:
            self._table[key] = updated.stored()
            self._metrics.consent_updated.labels(origin).inc()

    def _numbers(self, scope: str, phone_number_id: str) -> list[str]:
        """The numbers of this business whose earlier per-number records count."""
        listed = [n for n in self._config.waba_ids if self.scope_of(n) == scope]
        return [phone_number_id, *(n for n in listed if n != phone_number_id)]

    def _load(self, key: str) -> ConsentState | None:
        return self._records.get(key)


def _same(before: tuple[Any, ...], now: tuple[Any, ...]) -> bool:
    return len(before) == len(now) and all(map(is_, before, now))


def _key(scope: str, customer: str, partition: int) -> str:
    return f"{scope}|{customer}|{partition}"


def note_future(
    metrics: PolicyMetrics, fact: str, event_id: str, claimed: datetime, used: datetime
) -> None:
    """A time later than its receipt (plus the skew) was counted as the receipt: say so."""
    log.warning(
        "a time later than its receipt, counted as the receipt",
        fact=fact,
        event_id=event_id,
        claimed=claimed.isoformat(),
        used=used.isoformat(),
    )
    metrics.future_timestamps.labels(fact).inc()
