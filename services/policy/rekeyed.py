"""Work that belongs to another partition, sent there.

A partitioned table's entry for a conversation lives on the partition its key hashes to: the
worker holding that partition reads it there, and faust's changelog keeps it there (a write goes
to the changelog partition of the record being processed). Two kinds of record would write
elsewhere:

- a record naming the customer by another identifier than their canonical one (a message from a
  BSUID of a customer known by phone, say) arrives on the partition of that identifier;
- an identity merge finds the customer's state under the absorbed identifier's keys, which hash
  to other partitions than the keys the state joins.

Policy sends such work to its own topic (`<app id>-rekeyed`, co-partitioned with the
conversation-keyed topics; business systems never read it), keyed by the conversation it
touches, and does it where it lands:

- `inbound`, `call`, `thread`: the record itself, keyed by the customer's canonical
  conversation;
- `move`: keyed by a conversation of the absorbed identifier: its state is taken from there
  and sent on as
- `merge`: keyed by the conversation the state joins, and merged there with what it holds.

A record is sent on at most `MAX_HOPS` times (the customer's key changing again meanwhile);
after that it is handled where it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from shared.topics import CONVERSATION_PARTITIONS, TopicSpec

KIND_HEADER = "wagate-rekeyed"
HOPS_HEADER = "wagate-rekeyed-hops"
MAX_HOPS = 3
Kind = Literal["inbound", "call", "thread", "move", "merge"]
KINDS: tuple[Kind, ...] = ("inbound", "call", "thread", "move", "merge")


def topic(app_id: str) -> TopicSpec:
    """Policy's own topic for work sent to the partition it belongs to."""
    return TopicSpec(
        f"{app_id}-rekeyed",
        None,
        "phone_number_id:canonical customer",
        partitions=CONVERSATION_PARTITIONS,
        doc="Policy's own: customer messages, calls and thread changes re-keyed by the "
        "customer's canonical conversation, and identity merges' state on its way to its "
        "new key.",
    )


@dataclass(frozen=True)
class Sent:
    """One record for the rekeyed topic."""

    key: str
    kind: Kind
    value: bytes
    hops: int

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [(KIND_HEADER, self.kind.encode()), (HOPS_HEADER, str(self.hops).encode())]


@dataclass(frozen=True)
class Move:
    """The state of `old`'s conversation with the number goes to the customer `new`."""

    portfolio: str
    phone_number_id: str
    old: str
    new: str


@dataclass(frozen=True)
class Merge:
    """One table's state of a customer, to merge into the conversation the record is keyed by."""

    table: str
    state: Any  # as the table keeps it, packed values as their JSON text


def kind_of(value: bytes | None) -> Kind:
    kind = (value or b"").decode("ascii", "replace")
    if kind not in KINDS:
        raise ValueError(f"not a rekeyed record: kind {kind!r}")
    return kind


def hops_of(value: bytes | None) -> int:
    try:
        hops = int(value or b"0")
    except ValueError:
        raise ValueError(f"not a rekeyed record: hops {value!r}") from None
    return max(hops, 0)


def encode_move(move: Move) -> bytes:
    return json.dumps(move.__dict__, separators=(",", ":")).encode()


def decode_move(value: bytes) -> Move:
    fields = _object(value, ("portfolio", "phone_number_id", "old", "new"))
    if not all(isinstance(fields[name], str) and fields[name] for name in fields):
        raise ValueError("not a rekeyed move: every field is a non-empty string")
    return Move(**fields)


def encode_merge(merge: Merge) -> bytes:
    state = merge.state
    packed = isinstance(state, bytes | bytearray)
    body = {"table": merge.table, "packed": packed}
    body["state"] = bytes(state).decode() if packed else state
    return json.dumps(body, separators=(",", ":")).encode()


def decode_merge(value: bytes) -> Merge:
    body = _object(value, ("table", "packed", "state"))
    if not isinstance(body["table"], str) or not isinstance(body["packed"], bool):
        raise ValueError("not a rekeyed merge: table is a string, packed a boolean")
    state = body["state"]
    if body["packed"]:
        if not isinstance(state, str):
            raise ValueError("not a rekeyed merge: a packed state is JSON text")
        state = state.encode()
    return Merge(body["table"], state)


def _object(value: bytes, names: tuple[str, ...]) -> dict[str, Any]:
    try:
        body = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("not a rekeyed record: its value is not JSON") from None
    if not isinstance(body, dict) or set(body) != set(names):
        raise ValueError(f"not a rekeyed record: an object of {', '.join(names)}")
    return {name: body[name] for name in names}
