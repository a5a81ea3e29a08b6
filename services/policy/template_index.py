"""The languages each template exists in, for the fallback chain of a language with no
translation: (WABA, name) -> languages, derived from the templates table. The index is rebuilt
when the table has grown: the table is global, so it also grows from other workers' writes, and
no entry is ever removed from it (a deleted template keeps its state, DELETED)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class TemplateIndex:
    def __init__(self, table: Mapping[str, Any]) -> None:
        self._table = table
        self._size = -1
        self._by_name: dict[tuple[str, str], tuple[str, ...]] = {}

    def languages(self, waba_id: str, name: str) -> tuple[str, ...]:
        if len(self._table) != self._size:
            self._rebuild()
        return self._by_name.get((waba_id, name), ())

    def _rebuild(self) -> None:
        found: dict[tuple[str, str], list[str]] = {}
        for key in list(self._table.keys()):
            waba_id, _, rest = str(key).partition(":")
            name, _, language = rest.rpartition(":")
            found.setdefault((waba_id, name), []).append(language)
        self._by_name = {k: tuple(sorted(v)) for k, v in found.items()}
        self._size = len(self._table)
