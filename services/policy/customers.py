"""The identity table and what fills it: every identifier Meta reports together (inbound
messages, their contacts, statuses, send answers, number and BSUID changes) is learned through
the pure rules of `identity.py`, and a customer found under two keys, or whose key Meta
retired, has their windows, consent, marketing log and messaging-limit count moved to the one
key that stays. Per business portfolio: nothing crosses portfolios.

The table is global (every worker reads every entry), like consent: an intent addressed by
BSUID finds the window a message from the customer's phone opened.

The state that moves is partitioned. Given `relocate`, a move is handed over as one
`rekeyed.Move` per business number the absorbed customer may have state with (every number
of the portfolio policy is configured with, the number that reported the change, and each
this worker holds state for), to be done on the partition that state lives on
(`rekeyed.py`). Without it (one process holding every partition: the tests' tables), the state
moves at once.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from services.policy import identity
from services.policy.caps import MarketingLog
from services.policy.consent_records import ConsentRecords
from services.policy.rekeyed import Move
from services.policy.rules import PolicyConfig
from services.policy.validated import KEEP, read, stored
from services.policy.windows import WindowState
from shared import logs
from shared.events.identity import CustomerIdentityChanged
from shared.events.keys import conversation_key

log = logs.get(__name__)
T = TypeVar("T")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Customers:
    def __init__(
        self,
        table: MutableMapping[str, Any],
        state: Sequence[tuple[str, MutableMapping[str, Any]]],
        consent: ConsentRecords,
        config: PolicyConfig,
        relocate: Callable[[Move], None] | None = None,
    ) -> None:
        self._table = table
        self._relocate = relocate
        self._state = state  # (name, table keyed by conversation) whose entries move
        self._consent = consent
        self._config = config
        # answers read from one entry of the table, each kept with that entry's key and the
        # very value read (stored values are replaced, never changed in place: `validated.py`)
        self._canonicals: dict[tuple[str, str], tuple[str, Any, str]] = {}
        self._phones: dict[tuple[str, str], tuple[str, Any, str | None]] = {}

    def portfolio(self, phone_number_id: str) -> str:
        rules = self._config.consent
        waba = self._config.waba_for(phone_number_id)
        return rules.portfolio_ids.get(waba, rules.default_portfolio_id)

    def canonical(self, phone_number_id: str, identifier: str) -> str:
        """The customer's canonical key in the portfolio of this number."""
        portfolio = self.portfolio(phone_number_id)
        return self._read(
            self._canonicals, (phone_number_id, identifier),
            identity.entry_key(portfolio, identifier),
            lambda: identity.resolve(self._table, portfolio, identifier),
        )  # fmt: skip

    def canonical_for(self, phone_number_id: str, waba_id: str | None, identifier: str) -> str:
        """The canonical key of a customer a business names through a number or a WABA."""
        if phone_number_id or not waba_id:
            return self.canonical(phone_number_id, identifier)
        rules = self._config.consent
        portfolio = rules.portfolio_ids.get(waba_id, rules.default_portfolio_id)
        return identity.resolve(self._table, portfolio, identifier)

    def conversation(self, phone_number_id: str, identifier: str) -> str:
        """The key of the number's conversation with the customer `identifier` names."""
        return conversation_key(phone_number_id, self.canonical(phone_number_id, identifier))

    def phone(self, phone_number_id: str, canonical: str) -> str | None:
        """A phone the customer is known by (None: known only by BSUIDs)."""
        portfolio = self.portfolio(phone_number_id)
        return self._read(
            self._phones, (phone_number_id, canonical),
            identity.members_key(portfolio, canonical),
            lambda: identity.phone_of(self._table, portfolio, canonical),
        )  # fmt: skip

    def _read(
        self,
        answers: dict[tuple[str, str], tuple[str, Any, T]],
        asked: tuple[str, str],
        entry: str,
        answer: Callable[[], T],
    ) -> T:
        """`answer()`, read from the table's `entry` alone: kept with the very value it was read
        from, and given again while that entry still holds it."""
        raw = self._table.get(entry)
        seen = answers.get(asked)
        if seen is not None and seen[0] == entry and seen[1] is raw:
            return seen[2]
        if len(answers) >= KEEP:
            answers.clear()
        found = answer()
        answers[asked] = (entry, raw, found)
        return found

    def learn(self, phone_number_id: str, identifiers: Sequence[str | None]) -> str:
        """Meta reported these identifiers together: the customer's canonical key."""
        portfolio = self.portfolio(phone_number_id)
        learned = identity.learn(self._table, portfolio, identifiers)
        self._settle(portfolio, phone_number_id, learned)
        return learned.canonical

    def on_change(self, change: CustomerIdentityChanged) -> str:
        """A number change or BSUID change moves the customer; a send's answer links."""
        portfolio = self.portfolio(change.phone_number_id)
        previous, current = change.previous.identifiers, change.current.identifiers
        if change.change == "send_response":
            learned = identity.learn(self._table, portfolio, [*previous, *current])
        else:
            learned = identity.change(self._table, portfolio, previous, current)
        self._settle(portfolio, change.phone_number_id, learned)
        log.info("customer identity", change=change.change, moved=len(learned.absorbed) > 0)
        return learned.canonical

    def _settle(self, portfolio: str, reported_by: str, learned: identity.Learned) -> None:
        identity.apply(self._table, learned.writes)
        for old in learned.absorbed:
            self._move(portfolio, reported_by, old, learned.canonical)

    def _move(self, portfolio: str, reported_by: str, old: str, new: str) -> None:
        """Every state of the customer `old` names, in this portfolio, now under `new`."""
        numbers = {reported_by} if self.portfolio(reported_by) == portfolio else set()
        numbers |= {n for n in self._config.waba_ids if self.portfolio(n) == portfolio}
        for name, table in self._state:
            for key in [k for k in list(table.keys()) if str(k).endswith(f":{old}")]:
                number = str(key)[: -len(old) - 1]
                if not number or self.portfolio(number) != portfolio:
                    continue
                if self._relocate is not None:
                    numbers.add(number)
                    continue
                target = conversation_key(number, new)
                table[target] = merged(name, table.get(target), table[key])
                del table[key]
        if self._relocate is not None:
            for number in sorted(numbers):
                self._relocate(Move(portfolio, number, old, new))
        for scope in self._consent.scopes_of_portfolio(portfolio):
            self._consent.move(scope, old, new)


def merged(name: str, kept: Any, moved: Any) -> Any:
    """One customer's state from two keys: the later window, every marketing approval, the
    later count toward the messaging limit."""
    if kept is None:
        return moved
    if name == "windows":  # packed or not, as the table keeps it
        states = [read(WindowState, s) for s in (kept, moved)]
        latest = max(states, key=lambda s: s.last_customer_message_at or EPOCH)
        return stored(latest, isinstance(kept, bytes))
    if name == "marketing":
        logs_ = [MarketingLog.model_validate(s) for s in (kept, moved)]
        times = sorted({t for log_ in logs_ for t in log_.sent_at})
        return MarketingLog(sent_at=tuple(times)).model_dump(mode="json")
    if name == "reach":
        return max(datetime.fromisoformat(kept), datetime.fromisoformat(moved)).isoformat()
    return kept
