"""The agents' body: each record decoded and handed on, or dead-lettered with the shared headers
(and the agent goes on); released intents told apart by their header."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from services.policy.agents import consumer, failure, header, released, send_dead_letter
from services.policy.deferrals import RELEASED_HEADER
from services.policy.errors import UnusableFact
from shared import codec
from shared.errors import DecodeError
from shared.events.consent import ConsentChanged

CONSENT = ConsentChanged(
    customer="16505551234", phone_number_id="1", opted_in=False, source="send_error:131050"
)


@dataclass(frozen=True)
class Message:
    topic: str = "wagate.consent.v1"
    partition: int = 3
    offset: int = 41


@dataclass(frozen=True)
class Record:
    """What faust hands an agent from `stream.events()`."""

    value: bytes
    key: bytes | None = b"1:16505551234"
    headers: Any = None
    message: Message = field(default_factory=Message)


@dataclass
class Stream:
    records: list[Record]

    async def events(self) -> AsyncIterator[Record]:
        for record in self.records:
            yield record


@dataclass
class Topic:
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def send(self, **record: Any) -> None:
        self.sent.append(record)


async def test_each_record_is_decoded_and_handed_on_and_a_bad_one_dead_lettered() -> None:
    handled: list[tuple[ConsentChanged, Record]] = []
    dead: list[tuple[Record, str]] = []

    async def handle(value: ConsentChanged, event: Any) -> None:
        handled.append((value, event))

    async def dead_letter(event: Any, reason: str) -> None:
        dead.append((event, reason))

    good, bad = Record(codec.encode(CONSENT)), Record(b"{not json")
    await consumer(ConsentChanged, handle, dead_letter)(Stream([bad, good]))
    assert [event for event, _ in dead] == [bad]
    assert dead[0][1].startswith("not a valid ConsentChanged")
    assert handled == [(CONSENT, good)]


async def test_a_record_its_handler_refuses_or_fails_on_is_dead_lettered_and_goes_on() -> None:
    dead: list[tuple[Record, str]] = []
    handled: list[str] = []

    async def handle(value: ConsentChanged, event: Any) -> None:
        if value.source == "refused":
            raise UnusableFact("WABA 7 is not in policy's settings")
        if value.source == "bug":
            {}["secret-739201"]  # a bug whose message quotes a value
        handled.append(value.source)

    async def dead_letter(event: Any, reason: str) -> None:
        dead.append((event, reason))

    records = [
        Record(codec.encode(CONSENT.model_copy(update={"source": source})))
        for source in ("refused", "bug", "fine")
    ]
    await consumer(ConsentChanged, handle, dead_letter)(Stream(records))
    assert handled == ["fine"]
    assert [reason for _, reason in dead] == [
        "WABA 7 is not in policy's settings",
        dead[1][1],
    ]
    assert dead[1][1].startswith("handling the record failed: KeyError in handle (test_agents.py:")
    assert "739201" not in dead[1][1]


def test_a_failure_names_what_and_where_never_its_message() -> None:
    try:
        int("739201x")
    except ValueError as exc:
        said = failure(exc)
    assert said.startswith("ValueError in test_a_failure_names_what_and_where_never_its_message")
    assert "739201" not in said
    assert failure(TypeError("x")) == "TypeError"


async def test_a_dead_letter_keeps_the_record_and_says_why_and_whence() -> None:
    topic = Topic()
    record = Record(b"{not json")
    await send_dead_letter(topic, record, DecodeError("x" * 1500), "wagate-policy")
    await send_dead_letter(topic, record, "why", "wagate-policy")
    assert topic.sent[1]["headers"][0] == ("wagate-reason", b"why")
    topic.sent.pop()
    assert topic.sent == [
        {
            "key": b"1:16505551234",
            "value": b"{not json",
            "headers": [
                ("wagate-reason", b"x" * 1000),
                ("wagate-source-topic", b"wagate.consent.v1"),
                ("wagate-source-partition", b"3"),
                ("wagate-source-offset", b"41"),
                ("wagate-consumer-group", b"wagate-policy"),
            ],
        }
    ]


@pytest.mark.parametrize(
    ("headers", "value"),
    [
        pytest.param({RELEASED_HEADER: b"1"}, b"1", id="mapping"),
        pytest.param([("other", b"x"), (RELEASED_HEADER, b"1")], b"1", id="pairs"),
        pytest.param([("other", b"x")], None, id="absent"),
        pytest.param(None, None, id="no-headers"),
    ],
)
def test_headers_are_read_as_a_mapping_or_as_pairs(headers: Any, value: bytes | None) -> None:
    assert header(headers, RELEASED_HEADER) == value
    assert released(headers) is (value is not None)
