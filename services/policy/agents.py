"""Policy's faust agents: each reads one topic, decodes its records and hands every event to
the handlers; a record that is not a valid event of its topic goes to the dead-letter topic,
with the shared dead-letter headers, and the agent goes on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import faust

from services.policy.deferrals import RELEASED_HEADER
from services.policy.handlers import PolicyHandlers
from shared import codec, deadletters, logs, tracing
from shared.errors import DecodeError
from shared.events.consent import ConsentChanged
from shared.events.envelope import Event
from shared.events.intents import OutboundIntentSubmitted
from shared.events.preferences import UserPreferenceChanged
from shared.events.template_states import TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived

log = logs.get(__name__)
E = TypeVar("E", bound=Event)
Handle = Callable[[E, Any], Awaitable[None]]  # (the decoded event, the faust event it came in)
DeadLetter = Callable[[Any, DecodeError], Awaitable[None]]


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


def add_agents(app: faust.App, topics: Topics, handlers: PolicyHandlers, group: str) -> None:
    """One agent per topic policy reads; `group` names the consumer in dead-letter headers."""

    async def dead_letter(event: Any, error: DecodeError) -> None:
        await send_dead_letter(topics.dead_letters, event, error, group)

    def consume(topic: faust.TopicT, model: type[E], name: str, handle: Handle[E]) -> None:
        app.agent(topic, name=name)(consumer(model, handle, dead_letter))

    async def decide(intent: OutboundIntentSubmitted, event: Any) -> None:
        await handlers.on_intent(
            intent,
            event.key,
            event.value,
            released=released(event.headers),
            partition=event.message.partition,
        )

    async def inbound(message: InboundMessageReceived, _: Any) -> None:
        await handlers.on_inbound(message)

    consume(topics.inbound, InboundMessageReceived, "track_windows", inbound)
    consume(topics.consent, ConsentChanged, "track_consent", sync(handlers.on_consent))
    consume(
        topics.preferences, UserPreferenceChanged, "track_preferences", sync(handlers.on_preference)
    )
    consume(
        topics.template_states,
        TemplateStateChanged,
        "track_templates",
        sync(handlers.on_template_state),
    )
    consume(topics.intents, OutboundIntentSubmitted, "decide_intents", decide)


def consumer(
    model: type[E], handle: Handle[E], dead_letter: DeadLetter
) -> Callable[[Any], Awaitable[None]]:
    """The body of an agent: decode each record of the stream as `model`, then handle it."""

    async def agent(stream: Any) -> None:
        async for event in stream.events():
            try:
                value = codec.decode(model, event.value)
            except DecodeError as exc:
                await dead_letter(event, exc)
                continue
            msg = event.message
            with tracing.processing(msg.topic, msg.partition, msg.offset, event.headers):
                await handle(value, event)

    return agent


async def send_dead_letter(topic: faust.TopicT, event: Any, error: DecodeError, group: str) -> None:
    """The record, unchanged, on the dead-letter topic, with why and where it came from."""
    msg = event.message
    log.warning(
        "dead-lettered",
        topic=msg.topic,
        partition=msg.partition,
        offset=msg.offset,
        reason=str(error),
    )
    await topic.send(
        key=event.key,
        value=event.value,
        headers=deadletters.headers(
            str(error), group, topic=msg.topic, partition=msg.partition, offset=msg.offset
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
