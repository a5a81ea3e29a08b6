"""The worker's tables as the handlers see them: a read returns what faust's memory store holds
(what a recovery applied or a write stored), an absent key reads as absent, and every write and
delete goes through faust's own hooks (its changelog)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from services.policy.app import create_app
from services.policy.local_tables import LocalTable
from services.policy.settings import PolicySettings
from tests.conftest import SEALING_KEY


def _changelog(key: str, value: bytes | None, partition: int = 0) -> Any:
    """A changelog record as faust's recovery hands it to the store."""
    message = SimpleNamespace(value=value, partition=partition)
    return SimpleNamespace(key=key, value=value, message=message)


async def test_reads_see_what_the_store_holds_and_writes_go_through_faust(tmp_path: Path) -> None:
    app = create_app(PolicySettings(data_dir=tmp_path, sealing_keys=[SEALING_KEY]))
    table = app.tables["windows"]
    local = LocalTable(table)
    assert local.get("a") is None and "a" not in local and len(local) == 0
    with pytest.raises(KeyError):
        local["a"]
    written: list[tuple[str, Any]] = []
    table.on_key_set = lambda key, value: written.append((key, value))
    table.on_key_del = lambda key: written.append((key, None))
    recovered = [_changelog("a", b'{"n":1}'), _changelog("b", b'{"n":2}'), _changelog("b", None)]
    table.data.apply_changelog_batch(recovered, lambda k: k, lambda v: v)
    assert local.get("a") == b'{"n":1}' and local["a"] is table["a"]
    assert local.get("b") is None and list(local) == ["a"] and len(local) == 1
    local["c"] = b'{"n":3}'
    assert local.get("c") == b'{"n":3}' == table.get("c")
    del local["a"]
    assert written == [("c", b'{"n":3}'), ("a", None)]  # each through faust: its changelog
    assert local.get("a") is None and dict(local.items()) == {"c": b'{"n":3}'}


class _OtherStore(dict[str, Any]):
    """A table over a store that is not faust's memory store."""

    data = SimpleNamespace(data={"hidden": 1})  # not a memory store: never read


def test_a_table_over_another_store_is_read_through_the_table() -> None:
    table = _OtherStore(k=1)
    local = LocalTable(table)
    assert local.get("k") == 1 and local.get("hidden") is None and list(local) == ["k"]
    local["j"] = 2
    assert table == {"k": 1, "j": 2}
