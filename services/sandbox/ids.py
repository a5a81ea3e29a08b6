"""Deterministic ids under a seed, so a seeded run repeats: wamids, template ids, trace ids."""

from __future__ import annotations

import random


class Ids:
    """Deterministic ids under a seed: wamids, template ids, trace ids."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)

    def reseed(self, seed: int | None) -> None:
        self._rng = random.Random(seed)

    def _hex(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789ABCDEF") for _ in range(n))

    def wamid(self) -> str:
        return "wamid.SBX" + self._hex(32)

    def template_id(self) -> str:
        return str(1_000_000_000_000_000 + self._rng.randrange(10**15))

    def trace_id(self) -> str:
        return "A" + self._hex(22)
