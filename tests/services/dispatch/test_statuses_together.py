"""A partition's statuses applied together against the in-memory ledger: one read, one write
per round of moves, one mark, each update in its intent's trace; what falls back to the
one-at-a-time path (an intent changed between the read and the write, a status to keep, a
failure, an update to publish again); a batch retried after an error midway, each update still
published."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.dispatch.errors import LedgerUnavailable
from services.dispatch.ledger import Change, LedgerRow, LedgerState, NewIntent, Write
from services.dispatch.statuses import Statuses
from shared import codec, tracing
from shared.consuming import Fed
from shared.events.common import MetaError
from shared.events.envelope import Event
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.webhooks import MessageStatusReported
from shared.topics import TopicSpec
from tests.services.dispatch.conftest import Reporting, approved, reported
from tests.services.dispatch.fakes import InMemoryLedger, RecordingPublisher
from tests.shared.conftest import spans  # noqa: F401 (the fixture recording spans)


class Counting(InMemoryLedger):
    """Counts each operation; `before_write` runs once, between the batch's read and its
    first write (another replica, a send or the settler at work); `failing_round` makes that
    round's write fail as a lost database would, once."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: Counter[str] = Counter()
        self.before_write: list[tuple[str, LedgerState, Change]] = []
        self.failing_round: int | None = None

    async def named(self, intent_ids: Sequence[str], wamids: Sequence[str]) -> list[LedgerRow]:
        self.calls["named"] += 1
        return await super().named(intent_ids, wamids)

    async def record_many(self, writes: Sequence[Write]) -> list[LedgerRow | None]:
        self.calls["record_many"] += 1
        if self.calls["record_many"] == self.failing_round:
            self.failing_round = None
            raise LedgerUnavailable("the ledger is not there")
        for intent_id, state, change in self.before_write:
            await super().record(intent_id, state, change=change)
        self.before_write = []
        return await super().record_many(writes)

    async def get(self, intent_id: str) -> LedgerRow | None:
        self.calls["get"] += 1
        return await super().get(intent_id)

    async def by_wamid(self, wamid: str) -> LedgerRow | None:
        self.calls["by_wamid"] += 1
        return await super().by_wamid(wamid)

    async def mark_reported_many(self, marks: Sequence[tuple[str, LedgerState]]) -> None:
        self.calls["mark_reported_many"] += 1
        await super().mark_reported_many(marks)


class FailingPublisher(RecordingPublisher):
    """Fails the `failing`-th produce once, as a broker gone away would (nothing is kept)."""

    failing: int | None = None
    produced = 0

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        self.produced += 1
        if self.produced == self.failing:
            self.failing = None
            raise LedgerUnavailable("stands for Kafka gone: a retryable error")
        await super().publish_many(items)


@dataclass
class Parts(Reporting):
    statuses: Statuses
    counting: Counting


def _parts() -> Parts:
    ledger = Counting()
    base = Reporting.make(ledger, FailingPublisher())
    statuses = Statuses(base.ledger, base.transitions, base.reporter, base.metrics, base.handback)
    return Parts(**vars(base), statuses=statuses, counting=ledger)


async def _accepted(ledger: InMemoryLedger, intent_id: str, wamid: str, **fields: Any) -> None:
    decision = codec.encode(approved(intent_id, **fields)).decode()
    await ledger.claim(
        NewIntent(intent_id, "pn-1", "16505551234", {}, LedgerState.QUEUED, decision)
    )
    await ledger.start_attempt(intent_id)
    change = Change(wamid=wamid)
    await ledger.record(intent_id, LedgerState.ACCEPTED, expect=LedgerState.SENDING, change=change)
    await ledger.mark_reported(intent_id, LedgerState.ACCEPTED)


def fed(statuses: list[MessageStatusReported]) -> list[Fed[MessageStatusReported]]:
    return [
        Fed(status, ConsumerRecord("statuses", 2, n, 0, 0, None, b"", None, 0, 0, ()))
        for n, status in enumerate(statuses)
    ]


THREE = ("sent", "delivered", "read")


async def test_many_messages_statuses_take_one_statement_per_kind_of_work() -> None:
    parts = _parts()
    for n in range(30):
        await _accepted(parts.ledger, f"i-{n}", f"wamid.{n}")
    batch = [reported(f"i-{n}", f"wamid.{n}", s) for s in THREE for n in range(30)]
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 90
    assert parts.counting.calls == {"named": 1, "record_many": 3, "mark_reported_many": 1}
    assert parts.counting.record_batches == [30, 30, 30]
    for n in range(30):
        assert parts.published.states(f"i-{n}") == list(THREE)
        row = parts.ledger.rows[f"i-{n}"]
        assert (row.state, row.reported) == ("read", "read")
    assert parts.sample("wagate_dispatch_delivery_updates_total", state="read") == 30


async def test_one_message_s_sent_delivered_and_read_in_one_batch_go_in_their_order() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    batch = [
        reported("i-1", "wamid.A", "sent"),
        reported(None, "wamid.A", "delivered"),  # found by its wamid
        reported("i-1", "wamid.A", "read"),
    ]
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 3
    assert parts.published.states("i-1") == list(THREE)
    causes = [u.causation_id for u in parts.published.updates("i-1")]
    assert causes == [s.event_id for s in batch]  # each update caused by its own status
    assert "get" not in parts.counting.calls and parts.counting.record_batches == [1, 1, 1]


async def test_a_status_without_its_wamid_recorded_gives_it_to_the_intent_in_the_batch() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    await parts.ledger.record("i-1", LedgerState.UNKNOWN)
    parts.ledger.rows["i-1"] = replace(parts.ledger.rows["i-1"], wamid=None)  # no answer came
    batch = [reported("i-1", "wamid.LATE", "sent"), reported(None, "wamid.LATE", "delivered")]
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 2
    row = parts.ledger.rows["i-1"]
    assert (row.state, row.wamid) == ("delivered", "wamid.LATE")
    assert parts.published.states("i-1") == ["sent", "delivered"]


async def test_a_duplicate_status_in_one_batch_is_published_once() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    batch = [reported("i-1", "wamid.A", s) for s in ("delivered", "delivered", "sent", "read")]
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 4
    assert parts.published.states("i-1") == ["delivered", "read"]
    assert parts.counting.record_batches == [1, 1] and "get" not in parts.counting.calls


async def test_a_status_of_an_unrecorded_wamid_is_kept_the_others_applied_together() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    batch = [reported("i-1", "wamid.A", "delivered"), reported(None, "wamid.Z", "sent")]
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 2
    assert set(parts.ledger.early) == {("wamid.Z", "sent")}
    assert parts.published.states("i-1") == ["delivered"]
    await _accepted(parts.ledger, "i-2", "wamid.Z")
    await parts.statuses.apply_early("wamid.Z")
    assert parts.published.states("i-2") == ["sent"]


async def test_an_intent_moved_between_the_read_and_the_write_is_read_again() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    await _accepted(parts.ledger, "i-2", "wamid.B")
    # another replica applies i-1's delivered status in between (and publishes it itself)
    parts.counting.before_write = [("i-1", LedgerState.DELIVERED, Change())]
    batch = [
        reported("i-1", "wamid.A", "sent"), reported("i-2", "wamid.B", "sent"),
        reported("i-1", "wamid.A", "read"),
    ]  # fmt: skip
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 3
    assert parts.published.states("i-1") == ["read"]  # sent after delivered says nothing
    assert parts.published.states("i-2") == ["sent"]
    assert parts.ledger.rows["i-1"].state == "read" and parts.counting.calls["get"] == 2


async def test_an_intent_the_settler_moved_meanwhile_still_takes_the_status() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    parts.counting.before_write = [("i-1", LedgerState.UNCONFIRMED, Change())]
    batch = [reported("i-1", "wamid.A", "delivered")]
    assert await parts.statuses.on_statuses(fed(batch)) == [None]
    row = parts.ledger.rows["i-1"]
    assert (row.state, row.reported) == ("delivered", "delivered")
    assert parts.published.states("i-1") == ["delivered"]


async def test_a_batch_retried_after_its_second_write_failed_publishes_every_update() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    parts.counting.failing_round = 2
    batch = [reported("i-1", "wamid.A", s) for s in THREE]
    with pytest.raises(LedgerUnavailable):  # the consume loop reads the batch again
        await parts.statuses.on_statuses(fed(batch))
    assert parts.published.states("i-1") == ["sent"] and parts.ledger.rows["i-1"].state == "sent"
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 3
    assert parts.published.states("i-1") == list(THREE)
    row = parts.ledger.rows["i-1"]
    assert (row.state, row.reported) == ("read", "read")


async def test_a_batch_retried_after_a_produce_failed_publishes_the_recorded_update() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    await _accepted(parts.ledger, "i-2", "wamid.B")
    published = parts.published
    assert isinstance(published, FailingPublisher)
    published.failing = 2  # delivered is recorded, then Kafka never has its update
    batch = [reported(f"i-{n}", f"wamid.{w}", s) for s in THREE for n, w in ((1, "A"), (2, "B"))]
    with pytest.raises(LedgerUnavailable):
        await parts.statuses.on_statuses(fed(batch))
    assert parts.ledger.rows["i-1"].state == "delivered"
    assert parts.ledger.rows["i-1"].reported == "accepted"  # never marked: the truth stays
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 6
    for intent_id in ("i-1", "i-2"):
        assert parts.published.states(intent_id) == list(THREE)  # each once, none lost
        row = parts.ledger.rows[intent_id]
        assert (row.state, row.reported) == ("read", "read")


async def test_a_redelivered_status_whose_update_was_lost_is_published_again() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    await parts.ledger.record("i-1", LedgerState.DELIVERED)  # recorded; the publish failed
    batch = [reported("i-1", "wamid.A", "delivered"), reported("i-1", "wamid.A", "read")]
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 2
    assert parts.published.states("i-1") == ["delivered", "read"]
    assert parts.ledger.rows["i-1"].reported == "read"


REFUSED = [MetaError(code=131047, title="Re-engagement message")]
FALLBACK = TemplateContent(name="order_update", language="en_US")


async def test_131047_in_a_batch_hands_the_intent_back_and_its_later_statuses_say_nothing() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A", fallback_template=FALLBACK)
    await _accepted(parts.ledger, "i-2", "wamid.B")
    batch = [
        reported("i-1", "wamid.A", "failed", errors=REFUSED), reported("i-2", "wamid.B", "sent"),
        reported("i-1", "wamid.A", "delivered"),
    ]  # fmt: skip
    assert await parts.statuses.on_statuses(fed(batch)) == [None] * 3
    row = parts.ledger.rows["i-1"]
    assert row.state == "redeciding" and row.superseded == ("wamid.A",)
    [back] = parts.published.on("wagate.intents.v1")
    assert isinstance(back, OutboundIntentSubmitted) and back.redecision is not None
    assert parts.published.updates("i-1") == [] and parts.published.states("i-2") == ["sent"]
    again = [reported("i-1", "wamid.A", s) for s in THREE]  # the refused send's, superseded
    assert await parts.statuses.on_statuses(fed(again)) == [None] * 3
    assert parts.ledger.rows["i-1"].state == "redeciding" and parts.published.updates("i-1") == []


async def test_a_second_wamid_for_one_intent_is_counted_when_applied_together() -> None:
    parts = _parts()
    await _accepted(parts.ledger, "i-1", "wamid.A")
    assert await parts.statuses.on_statuses(fed([reported("i-1", "wamid.OTHER", "sent")])) == [None]
    assert parts.sample("wagate_dispatch_duplicate_wamids_total") == 1
    row = parts.ledger.rows["i-1"]
    assert (row.wamid, row.state) == ("wamid.A", "sent")
    [update] = parts.published.updates("i-1")
    assert update.wamid == "wamid.OTHER"


class TracedPublisher(FailingPublisher):
    """Records the trace each update is published in."""

    traces: list[int] = []

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        self.traces = [*self.traces, trace.get_current_span().get_span_context().trace_id]
        await super().publish_many(items)


async def test_statuses_applied_together_continue_each_intent_s_trace(
    spans: InMemorySpanExporter,  # noqa: F811 (the fixture imported above)
) -> None:
    published = TracedPublisher()
    base = Reporting.make(Counting(), published)
    statuses = Statuses(base.ledger, base.transitions, base.reporter, base.metrics, base.handback)
    with tracing.processing("decisions", 0, 0, [], "g") as sent_by:
        decision = tracing.stamp(codec.encode(approved("i-1")).decode())
    await base.ledger.claim(NewIntent("i-1", "pn-1", "1650", {}, LedgerState.QUEUED, decision))
    await base.ledger.record("i-1", LedgerState.ACCEPTED, change=Change(wamid="wamid.A"))
    with (
        tracing.processing("statuses", 2, 0, [], "g") as first,
        tracing.processing("statuses", 2, 1, [], "g") as second,
    ):
        batch = [
            Fed(reported("i-1", "wamid.A", s), fed([reported(None, "w", s)])[0].record, span)
            for s, span in (("sent", first), ("delivered", second))
        ]
        assert await statuses.on_statuses(batch) == [None, None]
    intent_trace = sent_by.get_span_context().trace_id
    assert published.traces == [intent_trace, intent_trace]  # each update in the intent's trace
    status_spans = [s for s in spans.get_finished_spans() if s.name == "status"]
    assert len(status_spans) == 2
    for span, record in zip(status_spans, (first, second), strict=True):
        assert span.context is not None and span.context.trace_id == intent_trace
        [link] = span.links  # the status as dispatch read it
        assert link.context.span_id == record.get_span_context().span_id
