"""Record in the ledger, then report what moved: each change of an intent's state that
business systems hear of is written here once. The ledger's compare-and-set decides whether
this replica made the change; only then is it reported, and always after it is recorded, with
what its update says (an update lost on the way is published again by the settler, the same
event saying the same)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.dispatch.ledger import STATE_ONLY, Change, Ledger, LedgerRow, LedgerState, NewIntent
from services.dispatch.reports import PLAIN, Report, Reporter
from shared.events.envelope import Event


@dataclass(frozen=True)
class Transitions:
    ledger: Ledger
    reporter: Reporter

    async def claim(
        self, cause: Event, new: NewIntent, report: Report = PLAIN
    ) -> tuple[LedgerRow, bool]:
        """Record a new intent, reported when it is newly recorded; returns (row, fresh)."""
        report = report.priced(cause)
        row, fresh = await self.ledger.claim(replace(new, report=report.kept()))
        if fresh:
            await self.reporter.update(cause, row, row.state, report)
        return row, fresh

    async def move(
        self,
        cause: Event,
        intent_id: str,
        state: LedgerState,
        *,
        expect: LedgerState,
        change: Change = STATE_ONLY,
        report: Report = PLAIN,
    ) -> LedgerRow | None:
        """Move the intent from `expect` to `state`, writing `change`, and report it; None,
        and nothing reported, when it was no longer in `expect`."""
        report = report.priced(cause)
        change = replace(change, report=report.kept())
        moved = await self.ledger.record(intent_id, state, expect=expect, change=change)
        if moved is not None:
            await self.reporter.update(cause, moved, state, report)
        return moved
