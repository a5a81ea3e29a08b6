"""Deterministic ids: the same natural keys always give the same id, equal to `uuid.uuid5` of
the joined keys in wagate's namespace (ids already on the topics and in the ledger never change)."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from shared.events.envelope import _NAMESPACE, deterministic_id

# ids as the first releases made them (`str(uuid.uuid5(...))`): records carry these today
KNOWN = {
    ("decision", "intent-1"): "5cea59d5-8f06-52de-9034-b5b6a171d064",
    (
        "window",
        "106540352242922:16505551234",
        "opened",
        "2026-03-02T10:00:00+00:00",
    ): "05d5be07-a120-5601-b7bd-a38cf20aaea7",
    ("é", ""): "d5efbdbc-f44a-5cfa-9701-48a639a69b50",
}


def test_ids_already_issued_come_out_the_same() -> None:
    for parts, expected in KNOWN.items():
        assert deterministic_id(*parts) == expected


@given(st.lists(st.text(), min_size=1, max_size=5))
def test_every_id_equals_uuid5_of_the_joined_keys(parts: list[str]) -> None:
    expected = uuid.uuid5(_NAMESPACE, "\x1f".join(parts))
    made = deterministic_id(*parts)
    assert made == str(expected)
    assert uuid.UUID(made).version == 5 and uuid.UUID(made).variant == uuid.RFC_4122
