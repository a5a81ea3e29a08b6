"""The idempotency ledger as dispatch's shell sees it: an intent's states, the rows kept, and
the port (`Ledger`) that `store.PostgresLedger` implements on PostgreSQL.

The ledger is also dispatch's durable queue: an approved intent is recorded `queued` with its
decision kept whole, so any replica can send, retry or settle it after a crash. Every state
change is a compare-and-set on the current state, so two replicas, or a status racing the
settler, never both act on one intent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class LedgerState(StrEnum):
    """Where an intent stands (`dispatch_intents.state`); a value is a `str`, as stored."""

    QUEUED = "queued"  # approved, waiting for its number's sender (also between retries)
    SENDING = "sending"  # an attempt is recorded; its request may be on its way
    UNKNOWN = "unknown"  # the request may have reached Meta, but no answer came
    ACCEPTED = "accepted"  # Meta answered with a wamid
    PACED = "paced"  # Meta answered with a wamid and holds it: a paced template
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    REJECTED = "rejected"  # policy refused it: recorded, never queued
    EXPIRED = "expired"  # its time ran out before it could be sent
    HELD = "held"  # never stored: reported while its number is held (the row stays queued)
    REDECIDING = "redeciding"  # handed back to policy; waits for its fresh decision
    NOT_SENT = "not_sent"  # reported `failed`: wagate's guess, which a real status overrides
    UNCONFIRMED = "unconfirmed"  # still unknown after the wait; told so; only a status settles it


INTERNAL = frozenset({LedgerState.QUEUED, LedgerState.SENDING, LedgerState.REDECIDING})
"""The states business systems never hear of (no delivery update says them)."""
REPORTED_AS: dict[LedgerState, str] = {
    state: state.value for state in LedgerState if state not in INTERNAL
} | {LedgerState.NOT_SENT: "failed", LedgerState.UNCONFIRMED: "unknown"}
"""The delivery state (`shared.events.delivery.DeliveryState`) each other state is reported as."""
RESENDABLE = frozenset({LedgerState.UNKNOWN, LedgerState.UNCONFIRMED, LedgerState.NOT_SENT})
"""The states a send may be asked again from (`Ledger.resend`): the request may have reached
Meta, so only the business decides that a duplicate is acceptable."""


@dataclass(frozen=True)
class LedgerRow:
    intent_id: str
    phone_number_id: str
    recipient: str
    state: LedgerState
    wamid: str | None
    attempts: int
    metadata: dict[str, str]
    priority: str = "notification"
    not_after: datetime | None = None
    next_attempt_at: datetime | None = None
    state_since: datetime | None = None
    reported: str | None = None  # the last state whose delivery update Kafka acknowledged
    decision: str | None = None  # the decision (JSON) it is sent by
    redecision: str | None = None  # the last hand-back to policy (`Redecision`, JSON)
    superseded: tuple[str, ...] = ()  # wamids of sends a re-decision replaced
    report: str | None = None  # what the current state's update says (`reports.Report`, JSON)


@dataclass(frozen=True)
class Change:
    """What a move writes beside the state: a wamid, error, decision or redecision given
    replaces the kept one (None keeps it); the next attempt's time is always replaced;
    `refund_attempt` takes back the attempt counted; `supersede` adds a wamid to those
    whose statuses are ignored."""

    wamid: str | None = None
    error: dict[str, Any] | None = None
    next_attempt_at: datetime | None = None
    decision: str | None = None
    refund_attempt: bool = False
    redecision: str | None = None
    supersede: str | None = None  # a wamid whose statuses no longer apply to the intent
    report: str | None = None  # the new state's update (JSON); None: kept if the state stays


STATE_ONLY = Change()
Write = tuple[str, LedgerState, LedgerState | None, Change]
"""A `record` call: the intent, its new state, the state expected (None: any), what else
changes."""


@dataclass(frozen=True)
class NewIntent:
    intent_id: str
    phone_number_id: str
    recipient: str
    metadata: dict[str, str]
    state: LedgerState
    decision: str | None = None
    priority: str = "notification"
    not_after: datetime | None = None
    report: str | None = None  # what the update of `state` says (JSON)


class Ledger(Protocol):
    """The ledger's operations; each raises a `RetryableError` while the ledger is unreachable.

    Times (`state_since`, `next_attempt_at` when claimed, a kept status's arrival) are the
    ledger's own clock.
    """

    async def claim(self, new: NewIntent) -> tuple[LedgerRow, bool]:
        """Record the intent unless it is known; returns (row, newly recorded). A new row is
        due now, with no attempt made."""
        ...

    async def claim_many(self, news: Sequence[NewIntent]) -> list[tuple[LedgerRow, bool]]:
        """`claim` for several intents (each once) in one round trip, in their order."""
        ...

    async def get(self, intent_id: str) -> LedgerRow | None: ...

    async def by_wamid(self, wamid: str) -> LedgerRow | None: ...

    async def named(self, intent_ids: Sequence[str], wamids: Sequence[str]) -> list[LedgerRow]:
        """The intents with any of these ids or wamids, each once, in one round trip."""
        ...

    async def start_attempt(self, intent_id: str) -> LedgerRow | None:
        """Move a queued intent to `sending` with one more attempt, before the request leaves;
        None when it is not queued (another replica took it, or it was settled)."""
        ...

    async def record(
        self,
        intent_id: str,
        state: LedgerState,
        *,
        expect: LedgerState | None = None,
        change: Change = STATE_ONLY,
    ) -> LedgerRow | None:
        """Set the intent's state, only from `expect` when given, and write `change`; None
        when the intent was not in `expect`. `state_since` restarts only when the state
        changes. A wamid another intent has already raises `asyncpg.UniqueViolationError`."""
        ...

    async def record_many(self, writes: Sequence[Write]) -> list[LedgerRow | None]:
        """`record` for several intents (each once) in one round trip, in their order; None
        where the intent was not in the state expected, or where the wamid written is another
        intent's (`record` alone raises that)."""
        ...

    async def resend(self, intent_id: str, requested_by: str) -> LedgerRow | None:
        """Queue again, due now, an intent whose send may have reached Meta (`RESENDABLE`),
        and record who asked, when and from which state; None when it is in no such state."""
        ...

    async def mark_reported(self, intent_id: str, state: LedgerState) -> None:
        """Kafka has the update saying `state`; ignored unless the intent is still in it."""
        ...

    async def mark_reported_many(self, marks: Sequence[tuple[str, LedgerState]]) -> None:
        """`mark_reported` for several intents (each once) in one round trip."""
        ...

    async def queued(
        self, phone_number_id: str | None = None, limit: int | None = None
    ) -> list[LedgerRow]:
        """Queued intents (all numbers, or one): those due first, then by lane (replies first,
        `lanes.LANES`), then the soonest due."""
        ...

    async def queued_numbers(self) -> list[str]:
        """The numbers with queued intents, each once."""
        ...

    async def stale(
        self, state: LedgerState, before: datetime, limit: int = 500
    ) -> list[LedgerRow]:
        """Intents in `state` since before `before`, the longest there first."""
        ...

    async def unreported(self, before: datetime, limit: int = 500) -> list[LedgerRow]:
        """Intents whose state changed before `before` but whose update was never confirmed
        published (internal states excepted), the oldest change first."""
        ...

    async def keep_status(self, wamid: str, status: str, event: str) -> None:
        """Keep a status (its event, JSON) whose wamid is not known yet; once per status."""
        ...

    async def take_statuses(self, wamid: str) -> list[str]:
        """The statuses kept for `wamid`, removed as they are handed out."""
        ...

    async def forget_statuses(self, before: datetime) -> None:
        """Drop the statuses kept since before `before`."""
        ...

    async def recorded_kept(self, limit: int = 500) -> list[str]:
        """Wamids that statuses are kept for and that an intent has recorded: what no take
        will hand out any more (a send that stopped between recording its wamid and taking,
        a take that failed), each once."""
        ...
