"""Ids are seeded: the same seed gives the same wamids, template ids and trace ids."""

from __future__ import annotations

from services.sandbox.ids import Ids


def test_ids_repeat_under_a_seed_and_differ_without() -> None:
    def draw(ids: Ids) -> list[str]:
        return [ids.wamid(), ids.template_id(), ids.trace_id(), ids.wamid()]

    assert draw(Ids(5)) == draw(Ids(5))
    assert draw(Ids(5)) != draw(Ids(6))
    assert draw(Ids(None)) != draw(Ids(None))
    first = draw(Ids(5))
    assert first[0].startswith("wamid.") and first[0] != first[3]
    assert first[1].isdigit() and len(first[1]) == 16
    seeded = Ids(9)
    before = draw(seeded)
    seeded.reseed(9)
    assert draw(seeded) == before
