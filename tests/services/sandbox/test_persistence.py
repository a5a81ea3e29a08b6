"""The sandbox's world survives a restart: saved atomically, read back whole (templates and
customers), and a missing or damaged snapshot starts an empty world instead of failing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from services.sandbox import persistence
from services.sandbox.rules.template_model import Template
from services.sandbox.world import World

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def _world() -> World:
    world = World()
    world.templates["1"] = Template(
        "1", "order_update", "en_US", "UTILITY", ({"type": "BODY", "text": "Hi {{1}}"},), NOW,
        status="APPROVED",
    )  # fmt: skip
    world.directory.for_phone("16505551234", "portfolio")
    world.customer_wrote("pn", "16505551234", NOW)
    return world


def test_a_saved_world_is_read_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "state" / "world.pickle"
    persistence.save(_world(), path)
    restored = persistence.load(path)
    assert restored.templates["1"].status == "APPROVED"
    assert restored.directory.find("16505551234") is not None
    assert restored.last_message_at("pn", "16505551234") == NOW
    assert [p.name for p in path.parent.iterdir()] == ["world.pickle"]  # no temporary left


def test_saving_replaces_the_snapshot_atomically(tmp_path: Path) -> None:
    path = tmp_path / "world.pickle"
    persistence.save(_world(), path)
    emptied = World()
    persistence.save(emptied, path)
    assert persistence.load(path).templates == {}


def test_no_snapshot_or_a_damaged_one_starts_empty(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / "none.pickle").templates == {}
    damaged = tmp_path / "damaged.pickle"
    damaged.write_bytes(b"\x80\x05not a pickle")
    assert persistence.load(damaged).templates == {}
    persistence.save({"not": "a world"}, damaged)  # type: ignore[arg-type]
    assert persistence.load(damaged).templates == {}
