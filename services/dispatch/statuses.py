"""Meta's statuses -> the ledger -> delivery updates. A status finds its intent by the callback
data wagate sent, else by wamid; one that finds none yet (its wamid is not recorded) is kept
and applied once the send's answer records it. A status only ever moves an intent forward
(`outcomes.advance`). Meta's 131047 in a `failed` status of a free-form intent naming a
fallback hands it back to policy (`handback`), and that send's later statuses are ignored.

A partition's statuses are handled together (`on_statuses`): read in one statement, worked
out in memory (`moves`), each message's in their order, and written one statement per kind of
work, so a status costs a share of a round trip, not three of its own. What needs more (a
failure, a status to keep, an intent changed meanwhile) goes one at a time, different
messages side by side."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from services.dispatch import attempts, moves
from services.dispatch.charges import ChargeBook, charge_of
from services.dispatch.errors import StatusRaced
from services.dispatch.handback import MARKETING_CAPPED, WINDOW_REFUSED, HandBack
from services.dispatch.ledger import Ledger, LedgerRow, LedgerState
from services.dispatch.metrics import DispatchMetrics
from services.dispatch.reports import Reporter, delivery
from services.dispatch.transitions import Transitions
from shared import codec, logs, tracing
from shared.consuming import Fed, alone, retried
from shared.errors import RetryableError
from shared.events.decisions import PolicyDecisionMade
from shared.events.delivery import DeliveryUpdated
from shared.events.webhooks import MessageStatusReported

log = logs.get(__name__)
STATUS_TRIES = 5
AT_ONCE = 8  # messages whose statuses are applied side by side (the pool holds 10 connections)
# Meta's 131047 in a failed status hands the intent back while nothing else reached the customer
HANDED_BACK_FROM = frozenset(
    {LedgerState.SENDING, LedgerState.UNKNOWN, LedgerState.UNCONFIRMED, LedgerState.ACCEPTED}
)  # never `paced`: Meta has the message, and only its release or its drop may follow


@dataclass(frozen=True)
class Statuses:
    ledger: Ledger
    transitions: Transitions
    reporter: Reporter
    metrics: DispatchMetrics
    handback: HandBack
    charges: ChargeBook | None = None  # where Meta's pricing of each wamid is kept

    async def on_status(
        self, status: MessageStatusReported, _: ConsumerRecord[bytes, bytes]
    ) -> None:
        if await self._settle(status, by_callback=True):
            return
        # not sent by wagate, or its wamid is not recorded yet: kept for when it is
        wamid = status.message_id
        await self.ledger.keep_status(wamid, status.status, codec.encode(status).decode())
        # The send records its wamid and then takes what was kept for it. Had it done both
        # between this status's search and its keeping, nothing would take it: looked for
        # again once kept, a status can wait only for a wamid not recorded when it was kept.
        if await self.ledger.by_wamid(wamid) is not None:
            await self.apply_early(wamid)

    async def on_statuses(
        self, batch: Sequence[Fed[MessageStatusReported]]
    ) -> list[BaseException | None]:
        """A partition's statuses: for each, None once applied (or kept) or the error it met.
        They are applied together where they can be (`_together`), and the rest one at a
        time (`_one_by_one`). An error of a statement made for them together stands for them
        all (the consume loop reads them again, and each is applied as a repeat)."""
        groups = in_turn([item.event for item in batch])
        with tracing.together([item.span for item in batch], "statuses"):
            planned = await self._together(batch, groups)
        return await self._one_by_one(batch, [group.left for group in planned])

    async def _together(
        self, batch: Sequence[Fed[MessageStatusReported]], groups: Sequence[Sequence[int]]
    ) -> list[moves.Group]:
        """The intents the batch names read in one statement; what each message's statuses do
        worked out in memory, in their order (`moves.planned`); the moves written one
        statement per round, each round's updates produced together once it is recorded;
        then the ledger's marks and the charges, one statement each. A message whose move met
        an intent changed since it was read is left, from that status on, to be read again."""
        events = [item.event for item in batch]
        ids = {e.biz_opaque_callback_data for e in events if e.biz_opaque_callback_data}
        rows = await self.ledger.named(sorted(ids), sorted({e.message_id for e in events}))
        decoded = _decisions() if self.charges is not None else None
        planned = moves.planned(events, groups, rows, decoded)
        moved: list[tuple[str, LedgerState]] = []
        try:
            for k in range(moves.rounds(planned)):
                moved += await self._round(batch, planned, k)
        finally:  # what Kafka has is marked, even when a later round failed
            if moved:
                await self.reporter.marked(moved)
        await self._charged(planned)
        return planned

    async def _round(
        self, batch: Sequence[Fed[MessageStatusReported]], planned: list[moves.Group], k: int
    ) -> list[tuple[str, LedgerState]]:
        """Each message's k-th move in one statement, each expecting the state it was planned
        from; the updates of those recorded published; returns them (intent, state)."""
        due = [(group, group.moves[k]) for group in planned if k < len(group.moves)]
        writes = [(m.intent_id, m.state, m.expect, m.change) for _, m in due]
        recorded: list[tuple[moves.Move, LedgerRow]] = []
        for (group, move), row in zip(due, await self.ledger.record_many(writes), strict=True):
            if row is None:
                group.cut(move.at)  # changed meanwhile (a send, the settler): read again
            else:
                recorded.append((move, row))
        await self._publish(batch, recorded)
        for move, row in recorded:
            if move.second_wamid:
                self.metrics.duplicates.inc()
                log.warning("a second wamid for one intent", intent_id=row.intent_id)
        return [(row.intent_id, move.state) for move, row in recorded]

    async def _publish(
        self,
        batch: Sequence[Fed[MessageStatusReported]],
        recorded: Sequence[tuple[moves.Move, LedgerRow]],
    ) -> None:
        updates = [
            (move, row, update)
            for move, row in recorded
            if (update := delivery(batch[move.at].event, row, move.state, move.report))
        ]
        if not tracing.installed():
            await self.reporter.published([update for *_, update in updates])
            return

        async def traced(move: moves.Move, row: LedgerRow, update: DeliveryUpdated) -> None:
            # in the status's own span, continuing its intent's trace, as one at a time
            with (
                batch[move.at].traced(),
                tracing.resumed(row.decision, "status", intent_id=row.intent_id),
            ):
                await self.reporter.published([update])

        done = await asyncio.gather(*(traced(*one) for one in updates), return_exceptions=True)
        for failed in done:  # raised once every produce has ended
            if failed is not None:
                raise failed

    async def _charged(self, planned: Sequence[moves.Group]) -> None:
        """What Meta charged, as the statuses applied together say, in one statement."""
        if self.charges is None:
            return
        said = [charge for _, charge in sorted(moves.by_place(planned).items())]
        charges = moves.charges_once(said)
        if not charges:
            return
        for charge, first in zip(charges, await self.charges.record_many(charges), strict=True):
            if first:
                self.metrics.billed.labels(*charge.labels()).inc()

    async def _one_by_one(
        self, batch: Sequence[Fed[MessageStatusReported]], groups: Sequence[Sequence[int]]
    ) -> list[BaseException | None]:
        """The statuses of `groups` one at a time (`on_status`), each group in its order, and
        after a retryable error its later ones wait for the retry; up to `AT_ONCE` groups go
        side by side. An error that is a bug is raised once every other status is done."""
        outcomes: list[BaseException | None] = [None] * len(batch)
        gate = asyncio.Semaphore(AT_ONCE)

        async def in_order(indexes: Sequence[int]) -> None:
            async with gate:
                for at, n in enumerate(indexes):
                    outcomes[n] = await alone(self.on_status, batch[n])
                    if retried(outcomes[n]):
                        for later in indexes[at + 1 :]:
                            outcomes[later] = outcomes[n]
                        return

        left = [group for group in groups if group]
        done = await asyncio.gather(*map(in_order, left), return_exceptions=True)
        for failed in done:
            if failed is not None:
                raise failed
        return outcomes

    async def apply_early(self, wamid: str | None) -> int:
        """Statuses that came before the wamid was recorded; kept again if they cannot apply.
        Returns how many applied."""
        if wamid is None:
            return 0
        count = 0
        for body in await self.ledger.take_statuses(wamid):
            status = codec.decode(MessageStatusReported, body.encode())
            try:
                applied = await self._settle(status, by_callback=False)
            except RetryableError:
                applied = False
            if applied:
                count += 1
            else:
                await self.ledger.keep_status(wamid, status.status, body)
        return count

    async def _settle(self, status: MessageStatusReported, *, by_callback: bool) -> bool:
        """Apply the status to its intent; False when no intent is known for it. A race with
        a send or the settler is resolved by reading the intent again."""
        for _ in range(STATUS_TRIES):
            row = None
            if by_callback and status.biz_opaque_callback_data:
                row = await self.ledger.get(status.biz_opaque_callback_data)
            if row is None:
                row = await self.ledger.by_wamid(status.message_id)
            if row is None:
                return False
            with tracing.resumed(row.decision, "status", intent_id=row.intent_id):
                if await self._apply(status, row):
                    return True
        raise StatusRaced("the intent kept changing while applying a status")

    async def _priced(self, status: MessageStatusReported, row: LedgerRow) -> None:
        if self.charges is None or status.pricing is None:
            return
        decision = codec.decode(PolicyDecisionMade, row.decision.encode()) if row.decision else None
        charge = charge_of(status, row.intent_id, decision)
        if charge is not None and await self.charges.record(charge):
            self.metrics.billed.labels(*charge.labels()).inc()

    async def _apply(self, status: MessageStatusReported, row: LedgerRow) -> bool:
        """Move the intent forward by the status; False when the intent changed meanwhile."""
        wamid = status.message_id
        await self._priced(status, row)  # Meta's charge stands even for a superseded send
        if wamid in row.superseded:
            return True  # a send that policy's fresh decision replaced: it says nothing now
        handed = await self._handed_back(status, row)
        if handed is not None:
            return handed
        if row.wamid is not None and row.wamid != wamid:
            self.metrics.duplicates.inc()
            log.warning("a second wamid for one intent", intent_id=row.intent_id)
        moving = moves.move_of(status, row)
        if moving is None:
            if row.reported != row.state and row.state == status.status:
                # a redelivered status whose update never reached Kafka: publish it now
                await self.reporter.again(status, row, wamid)
            return True
        new_state, change, report = moving
        moved = await self.transitions.move(
            status, row.intent_id, new_state, expect=row.state, change=change, report=report
        )
        if moved is None:
            return False
        if new_state == LedgerState.FAILED and any(
            attempts.stops_marketing(e) for e in status.errors
        ):
            await self.reporter.opted_out(status, moved)
        return True

    async def _handed_back(self, status: MessageStatusReported, row: LedgerRow) -> bool | None:
        """A `failed` status policy must decide on: Meta's 131047 for a free-form intent with
        a fallback, or Meta's 131049 (the customer's marketing capped: policy holds it and
        decides again within `not_after`). None when the status is not one of them."""
        if status.status != "failed" or row.state not in HANDED_BACK_FROM or row.decision is None:
            return None
        refused = attempts.refused_window(status.errors)
        capped = attempts.customer_held(status.errors)
        if refused is None and capped is None:
            return None
        decision = codec.decode(PolicyDecisionMade, row.decision.encode())
        if refused is not None and attempts.has_fallback(decision.intent):
            code, why = refused.code, WINDOW_REFUSED
        elif capped is not None:
            code, why = capped.code, MARKETING_CAPPED
        else:
            return None
        moved = await self.handback.hand_back(
            decision, row, str(code), why,
            end_as=LedgerState.FAILED, errors=status.errors, supersede=status.message_id,
        )  # fmt: skip
        return moved is not None


def _decisions() -> moves.Decoded:
    """Each intent's decision decoded once for the batch."""
    known: dict[str, PolicyDecisionMade | None] = {}

    def decoded(row: LedgerRow) -> PolicyDecisionMade | None:
        if row.intent_id not in known:
            body = row.decision
            known[row.intent_id] = (
                codec.decode(PolicyDecisionMade, body.encode()) if body is not None else None
            )
        return known[row.intent_id]

    return decoded


def in_turn(statuses: Sequence[MessageStatusReported]) -> list[list[int]]:
    """The statuses' indexes in groups to apply one after another, each group in order: the
    statuses of one wamid, joined with those naming the same intent by the callback data
    wagate sent (a status may come with it or without, and an intent sent twice has two
    wamids); different groups touch different intents."""
    owner: dict[str, int] = {}  # a wamid or a callback's key -> its group
    groups: list[list[int]] = []
    for n, status in enumerate(statuses):
        keys = [f"wamid:{status.message_id}"]
        if status.biz_opaque_callback_data:
            keys.append(f"intent:{status.biz_opaque_callback_data}")
        found = sorted({owner[key] for key in keys if key in owner})
        if not found:
            found = [len(groups)]
            groups.append([])
        into = found[0]
        for other in found[1:]:  # this status joins two groups: one from here on
            groups[into] = sorted(groups[into] + groups[other])
            groups[other] = []
            owner.update({key: into for key, group in owner.items() if group == other})
        groups[into].append(n)
        owner.update(dict.fromkeys(keys, into))
    return [group for group in groups if group]
