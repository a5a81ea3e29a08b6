"""A faust table as the handlers use it in the worker: every write goes through faust (its
changelog), every read goes straight to the dict its memory store keeps.

A decision reads some twenty entries (the window, a dozen consent records, the customer's
identifiers, the templates ...), most of them absent. Through faust each read calls its
per-key hook (`on_key_get`, which only counts the read for faust's own sensors: the tables
here are not windowed, so there is no key index to keep) and each absent one raises and
catches a KeyError; a read of the store's dict returns the same object, or None. Recovery
and faust's own writes fill that same dict, so nothing is seen later or differently.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

from faust.stores.memory import Store
from faust.types import TableT


class LocalTable(MutableMapping[str, Any]):
    def __init__(self, table: TableT[str, Any]) -> None:
        self.table = table
        self._dict: MutableMapping[str, Any] | None = None

    def _held(self) -> MutableMapping[str, Any]:
        """The store's dict, looked up on the first read (faust makes the store lazily, in
        the worker's event loop); another kind of store is read through faust."""
        if self._dict is None:
            store = self.table.data
            if not isinstance(store, Store):
                return self.table
            self._dict = store.data
        return self._dict

    def get(self, key: str, default: Any = None) -> Any:
        return self._held().get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self._held()[key]

    def __contains__(self, key: object) -> bool:
        return key in self._held()

    def __iter__(self) -> Iterator[str]:
        return iter(self._held())

    def __len__(self) -> int:
        return len(self._held())

    def __setitem__(self, key: str, value: Any) -> None:
        self.table[key] = value

    def __delitem__(self, key: str) -> None:
        del self.table[key]
