"""Pure: what a partition's statuses do to the intents read for them, worked out in memory so
that they are written together (`statuses.Statuses.on_statuses`). Each message's statuses go in
their order over the intent as the ones before leave it; the moves go in rounds, the k-th of
each message in round k, so an intent is written at most once a statement. A status that needs
more than a move (a failure, which may hand the intent back or tell policy; an update to publish
again; no intent found yet, or one another message's statuses touch) and its message's later
statuses are left to the one-at-a-time path, which reads again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from services.dispatch import attempts, outcomes
from services.dispatch.charges import Charge, charge_of
from services.dispatch.ledger import Change, LedgerRow, LedgerState
from services.dispatch.reports import Report
from shared.events.decisions import PolicyDecisionMade
from shared.events.webhooks import MessageStatusReported

Decoded = Callable[[LedgerRow], PolicyDecisionMade | None]
"""The decision an intent is sent by (None when it has none), for what Meta charged for it."""


@dataclass(frozen=True)
class Move:
    """A status's move of its intent from `expect` to `state` (`Transitions.move`'s)."""

    at: int  # the status's place in the batch
    intent_id: str
    expect: LedgerState
    state: LedgerState
    change: Change  # the report kept included
    report: Report  # priced
    second_wamid: bool  # the intent already has another wamid (counted, the first kept)


@dataclass
class Group:
    """One message's statuses: those applied together, in order (`steps`), their moves in
    order (round k writes `moves[k]`), each step's charge, and those left to the one-at-a-time
    path from the first that needs it (`left`)."""

    steps: list[int] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    charges: dict[int, Charge] = field(default_factory=dict)
    left: list[int] = field(default_factory=list)

    def cut(self, at: int) -> None:
        """The move of status `at` did not apply: it and what follows go one at a time."""
        self.left = [n for n in self.steps if n >= at] + self.left
        self.steps = [n for n in self.steps if n < at]
        self.moves = [m for m in self.moves if m.at < at]
        self.charges = {n: c for n, c in self.charges.items() if n < at}


def move_of(
    status: MessageStatusReported, row: LedgerRow
) -> tuple[LedgerState, Change, Report] | None:
    """The intent's new state after the status, with what it writes and what its update says;
    None when the status moves it nothing."""
    new_state = outcomes.advance(row.state, status.status)
    if new_state is None:
        return None
    wamid = status.message_id
    change = Change(
        wamid=wamid if row.wamid is None else None,
        error={"errors": [e.model_dump() for e in status.errors]} if status.errors else None,
    )
    reasons = [str(e.code) for e in status.errors]
    reasons += [r for e in status.errors for r in attempts.explained(e.code)]
    return new_state, change, Report(wamid=wamid, errors=status.errors, reasons=reasons)


@dataclass
class _Found:
    """The intents read for the batch, as the statuses planned so far leave them."""

    by_id: dict[str, LedgerRow]
    by_wamid: dict[str, str]
    owner: dict[str, int] = field(default_factory=dict)  # intent -> the group that touches it

    def row_for(self, status: MessageStatusReported) -> LedgerRow | None:
        """As `Statuses._settle` finds it: by the callback data, else by the wamid."""
        callback = status.biz_opaque_callback_data
        row = self.by_id.get(callback) if callback else None
        if row is None:
            intent_id = self.by_wamid.get(status.message_id)
            row = self.by_id.get(intent_id) if intent_id is not None else None
        return row

    def moved(self, row: LedgerRow, state: LedgerState, wamid: str | None, kept: str) -> None:
        """The row as the move leaves it, its update taken as published."""
        self.by_id[row.intent_id] = replace(
            row, state=state, wamid=row.wamid or wamid, reported=state, report=kept
        )
        if wamid is not None and row.wamid is None:
            self.by_wamid[wamid] = row.intent_id


def planned(
    statuses: Sequence[MessageStatusReported],
    groups: Sequence[Sequence[int]],
    rows: Sequence[LedgerRow],
    decoded: Decoded | None,
) -> list[Group]:
    """Each group's statuses (`statuses.in_turn`) over the rows read for the batch; their
    charges too, unless `decoded` is None."""
    found = _Found({r.intent_id: r for r in rows}, {r.wamid: r.intent_id for r in rows if r.wamid})
    planned_groups = []
    for g, indexes in enumerate(groups):
        group = Group()
        for at, n in enumerate(indexes):
            if not _step(statuses[n], n, g, group, found, decoded):
                group.left = list(indexes[at:])
                break
        planned_groups.append(group)
    return planned_groups


def _step(
    status: MessageStatusReported,
    n: int,
    g: int,
    group: Group,
    found: _Found,
    decoded: Decoded | None,
) -> bool:
    """Plan status `n` of group `g`; False when it is for the one-at-a-time path."""
    row = found.row_for(status)
    if row is None or found.owner.setdefault(row.intent_id, g) != g or status.status == "failed":
        return False
    wamid = status.message_id
    superseded = wamid in row.superseded  # a send a fresh decision replaced: only its charge
    moving = None if superseded else move_of(status, row)
    unreported = row.reported != row.state and row.state == status.status
    if moving is None and not superseded and unreported:
        return False  # its update never reached Kafka: published again one at a time
    if status.pricing is not None and decoded is not None:
        charge = charge_of(status, row.intent_id, decoded(row))
        if charge is not None:
            group.charges[n] = charge
    group.steps.append(n)
    if moving is not None:
        state, change, report = moving
        report = report.priced(status)
        kept = report.kept()
        group.moves.append(
            Move(
                n, row.intent_id, row.state, state, replace(change, report=kept), report,
                second_wamid=row.wamid is not None and row.wamid != wamid,
            )
        )  # fmt: skip
        found.moved(row, state, change.wamid, kept)
    return True


def rounds(groups: Sequence[Group]) -> int:
    """How many statements the moves take (the most moves one message makes)."""
    return max((len(group.moves) for group in groups), default=0)


def charges_once(charges: Sequence[Charge]) -> list[Charge]:
    """The charges of a batch, in order, one per wamid, as recording them one after another
    would leave the wamid's row: the first delivered one (kept for good once delivered), else
    the last; priced when the first of them was."""
    chosen: dict[str, Charge] = {}
    first: dict[str, Charge] = {}
    for charge in charges:
        first.setdefault(charge.wamid, charge)
        held = chosen.get(charge.wamid)
        if held is None or not held.delivered:
            chosen[charge.wamid] = charge
    return [replace(charge, at=first[wamid].at) for wamid, charge in chosen.items()]


def by_place(groups: Sequence[Group]) -> Mapping[int, Charge]:
    """The charges of the statuses applied together, by their place in the batch."""
    return {n: charge for group in groups for n, charge in group.charges.items()}
