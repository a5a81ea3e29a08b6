"""The SCRAM test broker's own helpers, checked without starting Java."""

from __future__ import annotations

import base64
import uuid

import pytest

from tests.cli import scram_broker


def test_a_cluster_id_is_never_read_as_an_option(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0xF8 starts the base64 text with "-", which the storage tool takes for a flag.
    dashed = uuid.UUID(bytes=bytes([0xF8]) + bytes(15))
    plain = uuid.UUID(bytes=bytes([0x10]) + bytes(15))
    made = iter([dashed, dashed, plain])
    monkeypatch.setattr(scram_broker.uuid, "uuid4", lambda: next(made))

    got = scram_broker.cluster_id()

    assert base64.urlsafe_b64encode(dashed.bytes).decode().startswith("-")
    assert got == base64.urlsafe_b64encode(plain.bytes).rstrip(b"=").decode()
    assert len(got) == 22


def test_cluster_ids_differ() -> None:
    made = {scram_broker.cluster_id() for _ in range(200)}
    assert len(made) == 200
    assert not any(one.startswith("-") for one in made)
