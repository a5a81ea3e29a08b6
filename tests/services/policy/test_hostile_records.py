"""Raw hostile records on the topics business systems produce to (intents, consent), each beside
valid ones: every record is judged on its own, the valid ones are handed on, each hostile one is
dead-lettered with the reason it is not the contract's event, and nothing is raised."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.policy.agents import consumer
from shared import codec
from shared.events.consent import ConsentChanged
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.services.policy.test_agents import CONSENT, Record, Stream

INTENT = OutboundIntentSubmitted(
    intent_id="i-1", phone_number_id="106540352242922", to="16505551234",
    content=TextContent(body="Your parcel left this morning."),
)  # fmt: skip


def _with(event: Any, path: tuple[str, ...], value: Any) -> bytes:
    """The event's JSON with the field at `path` set to `value`."""
    data = json.loads(codec.encode(event))
    target = data
    for name in path[:-1]:
        target = target[name]
    target[path[-1]] = value
    return json.dumps(data).encode()


def _cases(event: Any, text_field: tuple[str, ...]) -> dict[str, tuple[bytes, str]]:
    """Hostile records made from `event`, with the part of the reason each must carry."""
    valid = codec.encode(event)
    return {
        "not-utf8": (b"\xff\xfe" + valid, "Invalid JSON"),
        "not-json": (b"{not json", "Invalid JSON"),
        "truncated": (valid[:-5], "Invalid JSON"),
        "nan": (valid.replace(b"{", b'{"nan": NaN, ', 1), "nan is not a finite number"),
        "deep": (b"[" * 5000 + b"]" * 5000, "Invalid JSON"),
        "not-an-object": (b"[1, 2]", "Input should be an object"),
        "mistyped": (
            _with(event, text_field, 5),
            f"{text_field[-1]}: Input should be a valid string",
        ),
        "missing": (_with(event, ("phone_number_id",), None), "phone_number_id"),
        "nul": (_with(event, text_field, "a\x00b"), f"{'.'.join(text_field)} holds a NUL"),
        "nul-id": (_with(event, ("event_id",), "e\x00"), "event_id holds a NUL"),
        "nul-key": (valid.replace(b"{", b'{"a\\u0000": 1, ', 1), "a key in the event holds a NUL"),
        "lone-surrogate": (valid.replace(b'"1', b'"\\ud800', 1), "Invalid JSON"),
    }


@pytest.mark.parametrize(
    ("model", "event", "text_field"),
    [
        pytest.param(OutboundIntentSubmitted, INTENT, ("content", "body"), id="intents"),
        pytest.param(ConsentChanged, CONSENT, ("customer",), id="consent"),
    ],
)
async def test_each_hostile_record_is_dead_lettered_with_its_reason_beside_valid_ones(
    model: type[Any], event: Any, text_field: tuple[str, ...]
) -> None:
    cases = _cases(event, text_field)
    good = Record(codec.encode(event))
    records = [good, *(Record(raw) for raw, _ in cases.values()), good]
    handled: list[Any] = []
    dead: list[tuple[Record, str]] = []

    async def handle(value: Any, record: Any) -> None:
        handled.append(value)

    async def dead_letter(record: Any, reason: str) -> None:
        dead.append((record, reason))

    await consumer(model, handle, dead_letter)(Stream(records))

    assert handled == [event, event]  # both valid siblings, the duplicate too
    assert [r.value for r, _ in dead] == [raw for raw, _ in cases.values()]
    for (name, (_, said)), (_, reason) in zip(cases.items(), dead, strict=True):
        assert reason.startswith(f"not a valid {model.__name__}"), (name, reason)
        assert said in reason, (name, reason)
