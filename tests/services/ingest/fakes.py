"""In-memory stand-ins for ingest's ports (no inheritance: they satisfy the Protocols)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka.errors import KafkaConnectionError

from services.ingest.errors import DedupeUnavailable
from services.ingest.store import Claim
from shared.events.envelope import Event
from shared.topics import TopicSpec


@dataclass
class RecordingSink:
    """Keeps what was published, in order; `down` makes every publish fail like a lost broker."""

    published: list[tuple[str, Event, str | None]] = field(default_factory=list)
    down: bool = False
    produces: list[list[str]] = field(default_factory=list)  # the topics of each produce call

    async def publish(
        self,
        spec: TopicSpec,
        event: Event,
        key: str | None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        await self.publish_many([(spec, event, key)])

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        if self.down:
            raise KafkaConnectionError("broker unreachable")
        self.published.extend((spec.name, event, key) for spec, event, key in items)
        self.produces.append([spec.name for spec, _, _ in items])

    def topics(self) -> list[str]:
        return [name for name, _, _ in self.published]


@dataclass
class InMemoryDedupe:
    """Same answers as `store.SeenEvents`, without the lease (claims never go stale)."""

    states: dict[str, bool] = field(default_factory=dict)  # id -> done
    down: bool = False

    async def claim(self, event_ids: Sequence[str]) -> Claim:
        self._check()
        mine = {i for i in event_ids if i not in self.states}
        for i in mine:
            self.states[i] = False
        others = [i for i in event_ids if i not in mine]
        return Claim(
            mine=frozenset(mine),
            done=frozenset(i for i in others if self.states[i]),
            busy=frozenset(i for i in others if not self.states[i]),
        )

    async def complete(self, event_ids: Sequence[str]) -> None:
        self._check()
        self.states.update(dict.fromkeys(event_ids, True))

    async def release(self, event_ids: Sequence[str]) -> None:
        self._check()
        for i in event_ids:
            if self.states.get(i) is False:
                del self.states[i]

    def _check(self) -> None:
        if self.down:
            raise DedupeUnavailable("dedupe store unavailable")
