"""Policy run as several workers, each holding some partitions: a customer is one customer
however Meta names them and whichever worker a record reaches. A message from a BSUID of a
customer known by phone, their call and their thread change are handled on the partition of the
customer's canonical conversation; an identity merge or a number change takes the state to the
worker of the key it joins. The records policy sends itself for this are its own, and a
hostile one is dead-lettered, never half-applied."""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from services.policy import rekeyed
from services.policy.agents import handle_rekeyed
from services.policy.consent import ConsentRules
from services.policy.handlers import PolicyHandlers
from services.policy.metrics import PolicyMetrics
from services.policy.publisher import KeptHash
from services.policy.rules import PolicyConfig
from services.policy.tables import TABLES, Tables
from shared import codec
from shared.errors import PermanentError
from shared.events.decisions import PolicyDecisionMade
from shared.events.identity import CustomerIdentity, CustomerIdentityChanged
from shared.events.intents import OutboundIntentSubmitted, TextContent
from shared.events.keys import conversation_key
from shared.events.signals import CallReported, ThreadControlChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported
from shared.metrics import new_registry
from shared.sealing import Sealer
from shared.topics import CONVERSATION_PARTITIONS
from tests.conftest import SEALING_KEY

NOW = datetime(2026, 6, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
PNID, WABA = "106540352242922", "102290129340398"
CONFIG = PolicyConfig(
    waba_ids={PNID: WABA},
    default_waba_id=WABA,
    consent=ConsentRules(portfolio_ids={WABA: "portfolio-a"}, default_portfolio_id="portfolio-a"),
)
PARTITIONS = list(range(CONVERSATION_PARTITIONS))
_placed = KeptHash()


def partition_of(key: str) -> int:
    """Where Kafka's default partitioner puts a record with this key, as the worker's does."""
    return _placed(key.encode(), PARTITIONS, PARTITIONS)


@dataclass
class Record:
    topic: str
    key: str
    value: bytes
    headers: list[tuple[str, bytes]]


class Cluster:
    """`workers` policy workers, partition p held by worker p % workers: each its own
    partitioned tables, the global tables shared, every record handled by the worker holding
    its key's partition, as the consumer group would."""

    def __init__(self, workers: int = 2, forwarding: bool = True) -> None:
        self.now = NOW
        self.shared = {spec.name: {} for spec in TABLES if spec.everywhere}
        self.queue: deque[Record] = deque()
        self.decisions: list[PolicyDecisionMade] = []
        self.registries = [new_registry() for _ in range(workers)]
        self.workers = [self._worker(i, forwarding) for i in range(workers)]

    def _worker(self, index: int, forwarding: bool) -> PolicyHandlers:
        tables = {spec.name: self.shared.get(spec.name, {}) for spec in TABLES}

        async def decision(_: str, value: bytes) -> None:
            self.decisions.append(codec.decode(PolicyDecisionMade, value))

        async def to(topic: str, key: str, value: bytes) -> None:
            self.queue.append(Record(topic, key, value, []))

        async def send_on(sent: rekeyed.Sent) -> None:
            self.queue.append(Record("rekeyed", sent.key, sent.value, sent.headers))

        async def nowhere(_: str, __: bytes) -> None:
            return None

        return PolicyHandlers(
            tables=Tables(**tables),
            config=CONFIG,
            metrics=PolicyMetrics(self.registries[index]),
            emit_decision=decision,
            reroute_intent=lambda key, value: to("intents", key, value),
            emit_window=nowhere,
            release_intent=nowhere,
            clock=lambda: self.now,
            sealer=Sealer([SEALING_KEY]),
            send_on=send_on if forwarding else None,
        )

    def holder(self, key: str) -> PolicyHandlers:
        return self.workers[partition_of(key) % len(self.workers)]

    def put(self, topic: str, key: str, event: Any) -> None:
        self.queue.append(Record(topic, key, codec.encode(event), []))

    async def run(self) -> None:
        """Hand every record, and every record they lead to, to the worker holding it."""
        while self.queue:
            record = self.queue.popleft()
            worker, partition = self.holder(record.key), partition_of(record.key)
            key = record.key.encode()
            if record.topic == "inbound":
                message = codec.decode(InboundMessageReceived, record.value)
                await worker.on_inbound(message, partition, key)
            elif record.topic == "calls":
                await worker.on_call(codec.decode(CallReported, record.value), key)
            elif record.topic == "threads":
                worker.on_thread_control(codec.decode(ThreadControlChanged, record.value), key)
            elif record.topic == "statuses":
                worker.on_status(codec.decode(MessageStatusReported, record.value))
            elif record.topic == "identities":
                worker.on_identity(codec.decode(CustomerIdentityChanged, record.value))
            elif record.topic == "intents":
                intent = codec.decode(OutboundIntentSubmitted, record.value)
                await worker.on_intent(intent, key, record.value, partition=partition)
            else:
                await handle_rekeyed(worker, event(record, partition))
            await worker.flush()

    async def decide(self, intent: OutboundIntentSubmitted) -> PolicyDecisionMade:
        self.put("intents", conversation_key(PNID, intent.customer), intent)
        await self.run()
        return self.decisions[-1]

    def metric(self, kind: str, outcome: str) -> float:
        labels = {"kind": kind, "outcome": outcome}
        return sum(
            r.get_sample_value("wagate_policy_rekeyed_total", labels) or 0.0
            for r in self.registries
        )


def event(record: Record, partition: int) -> Any:
    """The record as faust hands it to an agent."""
    message = SimpleNamespace(topic=record.topic, partition=partition, offset=0)
    return SimpleNamespace(
        key=record.key.encode(), value=record.value, headers=record.headers, message=message
    )


def apart(phone: str) -> str:
    """A BSUID whose conversation with PNID is held by the other of two workers than the
    phone's."""
    phone_worker = partition_of(conversation_key(PNID, phone)) % 2
    for n in itertools.count(1000000000000000):
        bsuid = f"BR.{n}"
        if partition_of(conversation_key(PNID, bsuid)) % 2 != phone_worker:
            return bsuid
    raise AssertionError("unreachable")


def inbound(wamid: str, at: datetime, **who: str) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id=PNID, message_id=wamid, timestamp=at, message_type="text", text="hi", **who
    )


def text(intent_id: str, **address: str) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id, phone_number_id=PNID, content=TextContent(body="Olá"), **address
    )


def written(cluster: Cluster, key: str) -> datetime | None:
    state = cluster.holder(key).window(key)
    return state.last_customer_message_at if state else None


PHONE, NEW_PHONE = "5511987654321", "5511912345678"
BSUID = apart(PHONE)


@pytest.mark.parametrize("workers", [1, 2, 3])
async def test_a_message_from_a_phone_customers_bsuid_opens_the_window_where_it_is_decided(
    workers: int,
) -> None:
    cluster = Cluster(workers)
    # a day and more ago the customer wrote from their phone (Meta named both identifiers)
    cluster.put("inbound", f"{PNID}:{PHONE}", inbound("wamid.1", NOW - 30 * H, wa_id=PHONE))
    cluster.put(
        "inbound", f"{PNID}:{PHONE}", inbound("wamid.2", NOW - 29 * H, wa_id=PHONE, user_id=BSUID)
    )
    # an hour ago they wrote with their username on: the webhook names only the BSUID
    cluster.put("inbound", f"{PNID}:{BSUID}", inbound("wamid.3", NOW - H, user_id=BSUID))
    await cluster.run()

    assert written(cluster, conversation_key(PNID, PHONE)) == NOW - H
    for address in ({"to": PHONE}, {"recipient": BSUID}):
        decision = await cluster.decide(text(f"i-{address}", **address))
        assert decision.outcome == "approved", decision.detail
    assert cluster.metric("inbound", "sent") == 1  # sent once, to the canonical conversation
    assert not any(str(k).endswith(f":{BSUID}") for w in cluster.workers for k in w.tables.windows)


async def test_without_sending_on_two_workers_would_hold_two_halves_of_the_customer() -> None:
    """What the rekeyed topic is for: the same records on workers that keep what they see."""
    cluster = Cluster(2, forwarding=False)
    cluster.put(
        "inbound", f"{PNID}:{PHONE}", inbound("wamid.1", NOW - 30 * H, wa_id=PHONE, user_id=BSUID)
    )
    cluster.put("inbound", f"{PNID}:{BSUID}", inbound("wamid.2", NOW - H, user_id=BSUID))
    await cluster.run()
    assert written(cluster, conversation_key(PNID, PHONE)) == NOW - 30 * H  # the later one is lost


async def test_a_call_and_a_thread_change_from_the_bsuid_reach_the_canonical_conversation() -> None:
    cluster = Cluster(2)
    cluster.put(
        "inbound", f"{PNID}:{PHONE}", inbound("wamid.1", NOW - 30 * H, wa_id=PHONE, user_id=BSUID)
    )
    call = CallReported(
        phone_number_id=PNID,
        call_id="wacid.1",
        event="connect",
        direction="USER_INITIATED",
        user_id=BSUID,
        timestamp=NOW - 2 * H,
        occurred_at=NOW - 2 * H,
    )
    assert call.opens_window
    cluster.put("calls", f"{PNID}:{BSUID}", call)
    handover = ThreadControlChanged(
        phone_number_id=PNID,
        change="control_passed",
        held_by="agent",
        user_id=BSUID,
        timestamp=NOW - H,
        occurred_at=NOW - H,
    )
    cluster.put("threads", f"{PNID}:{BSUID}", handover)
    await cluster.run()

    key = conversation_key(PNID, PHONE)
    assert written(cluster, key) == NOW - 2 * H
    thread = cluster.holder(key).tables.threads.get(key)
    assert thread is not None and thread["held_by"] == "agent"
    assert cluster.metric("call", "sent") == cluster.metric("thread", "sent") == 1


async def test_a_merge_takes_the_absorbed_customers_window_to_the_worker_of_the_key_it_joins() -> (
    None
):
    cluster = Cluster(2)
    # known apart: the phone wrote long ago, the username (no phone) an hour ago
    cluster.put("inbound", f"{PNID}:{PHONE}", inbound("wamid.1", NOW - 30 * H, wa_id=PHONE))
    cluster.put("inbound", f"{PNID}:{BSUID}", inbound("wamid.2", NOW - H, user_id=BSUID))
    await cluster.run()
    assert (await cluster.decide(text("i-1", to=PHONE))).outcome == "rejected"

    # a status names both: one customer, the phone's key, the username's window with it
    status = MessageStatusReported(
        phone_number_id=PNID,
        message_id="wamid.out",
        status="delivered",
        recipient_id=PHONE,
        recipient_user_id=BSUID,
        timestamp=NOW,
    )
    cluster.put("statuses", f"{PNID}:{PHONE}", status)
    await cluster.run()

    assert written(cluster, conversation_key(PNID, PHONE)) == NOW - H
    assert not any(str(k).endswith(f":{BSUID}") for w in cluster.workers for k in w.tables.windows)
    assert (await cluster.decide(text("i-2", to=PHONE))).outcome == "approved"
    assert (await cluster.decide(text("i-3", recipient=BSUID))).outcome == "approved"
    assert cluster.metric("merge", "merged") == 1


async def test_a_number_change_moves_the_window_to_the_new_numbers_worker() -> None:
    new_phone = next(
        f"55119{n:08d}"
        for n in itertools.count(12345678)
        if partition_of(conversation_key(PNID, f"55119{n:08d}")) % 2
        != partition_of(conversation_key(PNID, PHONE)) % 2
    )
    cluster = Cluster(2)
    cluster.put(
        "inbound", f"{PNID}:{PHONE}", inbound("wamid.1", NOW - H, wa_id=PHONE, user_id=BSUID)
    )
    change = CustomerIdentityChanged(
        phone_number_id=PNID,
        change="user_changed_number",
        previous=CustomerIdentity(wa_id=PHONE, user_id=BSUID),
        current=CustomerIdentity(wa_id=new_phone),
        timestamp=NOW,
    )
    cluster.put("identities", f"{PNID}:{PHONE}", change)
    cluster.put("identities", f"{PNID}:{PHONE}", change)  # Meta redelivers it
    await cluster.run()

    assert written(cluster, conversation_key(PNID, new_phone)) == NOW - H
    assert (await cluster.decide(text("i-1", to=new_phone))).outcome == "approved"
    old = await cluster.decide(text("i-2", to=PHONE))
    assert (old.outcome, old.reasons) == ("rejected", ["WINDOW_CLOSED"])
    assert cluster.metric("merge", "merged") == 1


async def test_a_record_sent_on_is_handled_under_its_key_by_a_worker_whose_identities_lag() -> None:
    cluster = Cluster(2)
    worker = cluster.holder(conversation_key(PNID, PHONE))
    sent = rekeyed.Sent(
        conversation_key(PNID, PHONE), "inbound", codec.encode(inbound("w", NOW, user_id=BSUID)), 1
    )
    # this worker has not yet seen the identities that linked the BSUID to the phone
    await handle_rekeyed(worker, event(Record("rekeyed", sent.key, sent.value, sent.headers), 0))
    await worker.flush()
    assert not cluster.queue  # not sent back
    assert written(cluster, conversation_key(PNID, PHONE)) == NOW


async def test_a_record_whose_customer_keeps_changing_is_handled_where_it_is_at_last() -> None:
    cluster = Cluster(2)
    late = rekeyed.Sent(
        conversation_key(PNID, BSUID),
        "inbound",
        codec.encode(inbound("w", NOW, user_id=BSUID)),
        rekeyed.MAX_HOPS,
    )
    cluster.shared["identities"][f"portfolio-a|{BSUID}"] = PHONE  # moved on once more
    worker = cluster.holder(late.key)
    await handle_rekeyed(worker, event(Record("rekeyed", late.key, late.value, late.headers), 0))
    assert not worker._pending
    assert cluster.metric("inbound", "kept") == 1


@pytest.mark.parametrize(
    ("headers", "value", "why"),
    [
        ([], b"{}", "kind ''"),
        ([(rekeyed.KIND_HEADER, b"teleport")], b"{}", "kind 'teleport'"),
        ([(rekeyed.KIND_HEADER, b"move"), (rekeyed.HOPS_HEADER, b"x")], b"{}", "hops"),
        ([(rekeyed.KIND_HEADER, b"move")], b"not json", "not JSON"),
        ([(rekeyed.KIND_HEADER, b"move")], b'{"portfolio": "p"}', "an object of"),
        (
            [(rekeyed.KIND_HEADER, b"move")],
            b'{"portfolio":"p","phone_number_id":"1","old":"","new":"2"}',
            "non-empty",
        ),
        (
            [(rekeyed.KIND_HEADER, b"merge")],
            b'{"table":"consent","packed":false,"state":{}}',
            "no table",
        ),
        (
            [(rekeyed.KIND_HEADER, b"merge")],
            b'{"table":"windows","packed":true,"state":1}',
            "JSON text",
        ),
        ([(rekeyed.KIND_HEADER, b"inbound")], b'{"type": "nonsense"}', "InboundMessageReceived"),
    ],
)
async def test_a_hostile_rekeyed_record_is_refused_whole(
    headers: list[tuple[str, bytes]], value: bytes, why: str
) -> None:
    cluster = Cluster(1)
    worker = cluster.workers[0]
    before = {name: dict(table) for name, table in vars(worker.tables).items()}
    with pytest.raises(PermanentError, match=why):
        await handle_rekeyed(worker, event(Record("rekeyed", f"{PNID}:{PHONE}", value, headers), 0))
    assert {name: dict(table) for name, table in vars(worker.tables).items()} == before
    assert not worker._pending


def test_moves_and_merges_come_back_as_they_went() -> None:
    move = rekeyed.Move("portfolio-a", PNID, BSUID, PHONE)
    assert rekeyed.decode_move(rekeyed.encode_move(move)) == move
    for state in (b'{"last_customer_message_at":"2026-06-02T09:00:00Z"}', {"sent_at": []}, "x"):
        merge = rekeyed.Merge("windows", state)
        assert rekeyed.decode_merge(rekeyed.encode_merge(merge)) == merge
