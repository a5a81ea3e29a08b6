"""Policy's faust agents: each reads one topic, decodes its records and hands every event to
the handlers. A record that is not a valid event of its topic, or that its handler cannot use
or fails on, goes to the dead-letter topic with the shared dead-letter headers, and the agent
goes on: one hostile record never stops its partition. An intent whose decision failed also
ends rejected with INTERNAL_ERROR, so nothing vanishes. The work a record leaves for other
partitions (`rekeyed.py`) is sent after it, handled or not."""

from __future__ import annotations

import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import faust

from services.policy import rekeyed as rekeying
from services.policy.deferrals import RELEASED_HEADER
from services.policy.errors import DecisionFailed
from services.policy.handlers import PolicyHandlers
from shared import codec, deadletters, logs, tracing
from shared.errors import PermanentError
from shared.events.account import AccountUpdateReported
from shared.events.consent import ConsentChanged
from shared.events.envelope import Event
from shared.events.identity import CustomerIdentityChanged
from shared.events.intents import OutboundIntentSubmitted
from shared.events.preferences import UserPreferenceChanged
from shared.events.signals import CallReported, ThreadControlChanged
from shared.events.template_states import TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived, MessageStatusReported

log = logs.get(__name__)
E = TypeVar("E", bound=Event)
Handle = Callable[[E, Any], Awaitable[None]]  # (the decoded event, the faust event it came in)
DeadLetter = Callable[[Any, str], Awaitable[None]]  # (the faust event, why)


@dataclass(frozen=True)
class Topics:
    """The topics policy reads and writes, as the app made them (raw keys and values)."""

    inbound: faust.TopicT
    intents: faust.TopicT
    consent: faust.TopicT
    preferences: faust.TopicT
    template_states: faust.TopicT
    decisions: faust.TopicT
    dead_letters: faust.TopicT
    windows: faust.TopicT
    statuses: faust.TopicT
    identities: faust.TopicT
    calls: faust.TopicT
    thread_control: faust.TopicT
    accounts: faust.TopicT
    rekeyed: faust.TopicT


def add_agents(app: faust.App, topics: Topics, handlers: PolicyHandlers, group: str) -> None:
    """One agent per topic policy reads; `group` names the consumer in dead-letter headers."""

    def consume(topic: faust.TopicT, model: type[E], name: str, handle: Handle[E]) -> None:
        async def dead_letter(event: Any, reason: str) -> None:
            handlers.metrics.dead_letters.labels(name).inc()
            await send_dead_letter(topics.dead_letters, event, reason, group)

        app.agent(topic, name=name)(consumer(model, flushed(handlers, handle), dead_letter))

    async def decide(intent: OutboundIntentSubmitted, event: Any) -> None:
        await decided(handlers, intent, event)

    async def inbound(message: InboundMessageReceived, event: Any) -> None:
        await handlers.on_inbound(message, event.message.partition, event.key)

    async def consent(change: ConsentChanged, event: Any) -> None:
        handlers.on_consent(change, event.message.partition)

    async def preference(change: UserPreferenceChanged, event: Any) -> None:
        handlers.on_preference(change, event.message.partition)

    consume(topics.inbound, InboundMessageReceived, "track_windows", inbound)
    consume(topics.consent, ConsentChanged, "track_consent", consent)
    consume(topics.preferences, UserPreferenceChanged, "track_preferences", preference)
    consume(
        topics.template_states,
        TemplateStateChanged,
        "track_templates",
        sync(handlers.on_template_state),
    )
    consume(topics.statuses, MessageStatusReported, "track_statuses", sync(handlers.on_status))
    consume(
        topics.identities, CustomerIdentityChanged, "track_identities", sync(handlers.on_identity)
    )

    async def call(reported: CallReported, event: Any) -> None:
        await handlers.on_call(reported, event.key)

    async def thread(change: ThreadControlChanged, event: Any) -> None:
        handlers.on_thread_control(change, event.key)

    consume(topics.calls, CallReported, "track_calls", call)
    consume(topics.thread_control, ThreadControlChanged, "track_threads", thread)
    consume(topics.accounts, AccountUpdateReported, "track_accounts", sync(handlers.on_account))
    consume(topics.intents, OutboundIntentSubmitted, "decide_intents", decide)

    async def dead_letter_rekeyed(event: Any, reason: str) -> None:
        handlers.metrics.dead_letters.labels("rekeyed").inc()
        await send_dead_letter(topics.dead_letters, event, reason, group)

    rekeyed = flushed(handlers, lambda _, event: handle_rekeyed(handlers, event))
    app.agent(topics.rekeyed, name="rekeyed")(records(rekeyed, dead_letter_rekeyed))


async def handle_rekeyed(handlers: PolicyHandlers, event: Any) -> None:
    """One record another partition's work sent here (`rekeyed.py`), by its kind."""
    try:
        kind = rekeying.kind_of(header(event.headers, rekeying.KIND_HEADER))
        hops = max(rekeying.hops_of(header(event.headers, rekeying.HOPS_HEADER)), 1)
        if event.key is None:
            raise ValueError("not a rekeyed record: it has no key")
        if kind == "move":
            handlers.on_move(rekeying.decode_move(event.value))
        elif kind == "merge":
            handlers.on_merge(rekeying.decode_merge(event.value), event.key, hops)
    except ValueError as exc:
        raise PermanentError(str(exc)) from None
    if kind == "inbound":
        message = codec.decode(InboundMessageReceived, event.value)
        await handlers.on_inbound(message, event.message.partition, event.key, hops)
    elif kind == "call":
        await handlers.on_call(codec.decode(CallReported, event.value), event.key, hops)
    elif kind == "thread":
        change = codec.decode(ThreadControlChanged, event.value)
        handlers.on_thread_control(change, event.key, hops)


def flushed(handlers: PolicyHandlers, handle: Handle[E]) -> Handle[E]:
    """`handle`, then the work it left for other partitions sent (also when it failed)."""

    async def run(value: E, event: Any) -> None:
        try:
            await handle(value, event)
        finally:
            await handlers.flush()

    return run


async def decided(handlers: PolicyHandlers, intent: OutboundIntentSubmitted, event: Any) -> None:
    """Decide one intent; when that fails, the intent ends rejected (INTERNAL_ERROR) and
    DecisionFailed sends its record to the dead-letter topic."""
    try:
        await handlers.on_intent(
            intent,
            event.key,
            event.value,
            released=released(event.headers),
            partition=event.message.partition,
        )
    except Exception as exc:  # whatever went wrong, the intent must end visibly
        reason = failure(exc)
        log.error("deciding an intent failed", intent_id=intent.intent_id, reason=reason)
        await handlers.on_intent_failed(intent, reason)
        raise DecisionFailed(f"deciding the intent failed: {reason}") from exc


def consumer(
    model: type[E], handle: Handle[E], dead_letter: DeadLetter
) -> Callable[[Any], Awaitable[None]]:
    """The body of an agent: decode each record of the stream as `model`, then handle it; a
    record that fails either way is dead-lettered with the reason and the stream goes on."""

    async def decoded(event: Any) -> None:
        await handle(codec.decode(model, event.value), event)

    return records(lambda _, event: decoded(event), dead_letter)


def records(handle: Handle[Any], dead_letter: DeadLetter) -> Callable[[Any], Awaitable[None]]:
    """The body of an agent handing each faust event whole to `handle` (as `(None, event)`);
    a record that fails is dead-lettered with the reason and the stream goes on."""

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            await one(event)

    async def one(event: Any) -> None:
        msg = event.message
        try:
            with tracing.processing(msg.topic, msg.partition, msg.offset, event.headers):
                await handle(None, event)
        except PermanentError as exc:
            await dead_letter(event, str(exc))
        except Exception as exc:  # a bug met on one record must not stop its partition
            reason = failure(exc)
            log.error("handling a record failed", topic=event.message.topic, reason=reason)
            await dead_letter(event, f"handling the record failed: {reason}")

    return agent


def failure(exc: BaseException) -> str:
    """What failed and where, without the exception's message (it may quote a value the
    intent carries, a one-time code say)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return type(exc).__name__
    last = frames[-1]
    return f"{type(exc).__name__} in {last.name} ({Path(last.filename).name}:{last.lineno})"


async def send_dead_letter(
    topic: faust.TopicT, event: Any, error: BaseException | str, group: str
) -> None:
    """The record, unchanged, on the dead-letter topic, with why and where it came from."""
    msg = event.message
    reason = str(error)
    log.warning(
        "dead-lettered", topic=msg.topic, partition=msg.partition, offset=msg.offset, reason=reason
    )
    await topic.send(
        key=event.key,
        value=event.value,
        headers=deadletters.headers(
            reason, group, topic=msg.topic, partition=msg.partition, offset=msg.offset
        ),
    )


def sync(fn: Callable[[E], None]) -> Handle[E]:
    """A handler that needs neither to await nor the faust event, as an agent's `handle`."""

    async def handle(value: E, _: Any) -> None:
        fn(value)

    return handle


def released(headers: Any) -> bool:
    """The record is a deferred intent put back on the topic at its release time."""
    return header(headers, RELEASED_HEADER) is not None


def header(headers: Any, name: str) -> bytes | None:
    """A record header's value; faust hands headers as a mapping or as (name, value) pairs."""
    items = headers.items() if isinstance(headers, dict) else (headers or [])
    for key, value in items:
        if key == name:
            return bytes(value)
    return None
