"""Bytes <-> events: the only place that (de)serialises. JSON only."""

from __future__ import annotations

from typing import TypeVar

from pydantic import ValidationError

from shared.errors import DecodeError
from shared.events import plain
from shared.events.envelope import Event

E = TypeVar("E", bound=Event)


def encode(event: Event) -> bytes:
    return event.model_dump_json(exclude_none=False).encode()


def decode(model: type[E], data: bytes | None) -> E:
    if data is None:
        raise DecodeError("empty record (tombstone) where an event was expected")
    try:
        with plain.reading(data):
            return model.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise DecodeError(f"not a valid {model.__name__}: {where}: {first['msg']}") from exc


def encode_key(key: str | None) -> bytes | None:
    return key.encode() if key is not None else None
