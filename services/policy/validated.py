"""A table's entries read back as models, each stored value validated once: the handlers read
windows, templates, threads, marketing logs and consent records on every decision, and the
values were validated when they were written (or recovered), so a read of a value already
seen returns the model made from it.

A stored value is recognised by identity (`is`), never by equality: whoever replaces an entry,
here or elsewhere (a rebalance's recovery, the identity moves in `customers.py`), stores a new
object, and the next read validates it. Stored values are never changed in place (every writer
stores a fresh `model_dump`), and the models are frozen, so a model handed out twice is safe.
The memory it takes is bounded: at `keep` models it starts afresh.

A packed table (`TableSpec.packed`: the windows, a million of them on one worker) holds each
value as its JSON bytes, the fields at their defaults left out: a few hundred bytes less per
entry than a decoded dict, and its changelog records are those same bytes, so nothing is
decoded while the table recovers. A read takes either form (a dict from the changelog of an
older release, or from the tests' dict tables).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

KEEP = 8192


class Validated(Generic[M]):
    def __init__(
        self,
        table: MutableMapping[str, Any],
        model: type[M],
        keep: int = KEEP,
        packed: bool = False,
    ) -> None:
        self.table = table
        self._model = model
        self._keep = keep
        self._packed = packed
        self._seen: dict[str, tuple[Any, M]] = {}

    def get(self, key: str) -> M | None:
        raw = self.table.get(key)
        if not raw:
            return None
        seen = self._seen.get(key)
        if seen is not None and seen[0] is raw:
            return seen[1]
        value = read(self._model, raw)
        self._remember(key, raw, value)
        return value

    def put(self, key: str, value: M) -> None:
        raw = stored(value, self._packed)
        self.table[key] = raw
        self._remember(key, raw, value)

    def _remember(self, key: str, raw: Any, value: M) -> None:
        if len(self._seen) >= self._keep:
            self._seen.clear()
        self._seen[key] = (raw, value)


def read(model: type[M], raw: Any) -> M:
    """A stored value as its model, packed (JSON bytes) or a decoded dict."""
    if isinstance(raw, bytes | bytearray):
        return model.model_validate_json(raw)
    return model.model_validate(raw)


def stored(value: BaseModel, packed: bool) -> Any:
    """The value as a table keeps it: its JSON bytes without the defaults, or a dict."""
    if packed:
        return value.model_dump_json(exclude_defaults=True).encode()
    return value.model_dump(mode="json")
