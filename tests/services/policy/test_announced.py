"""Window changes are announced once each, and the worker forgets each once it can no longer be
due, so its memory of them follows the windows still expiring or just closed, not every window
it ever saw."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.policy.announced import Announced
from shared.events.webhooks import InboundMessageReceived
from tests.services.policy.test_handlers import AGO, LEAD, NOW, PNID, H, Harness


def test_an_id_is_kept_until_its_time_and_then_forgotten() -> None:
    memory = Announced()
    memory.add("a", NOW + H)
    memory.add("b", NOW + 2 * H)
    assert "a" in memory and "b" in memory and len(memory) == 2
    assert memory.forget_due_by(NOW + H - timedelta(microseconds=1)) == 0
    assert memory.forget_due_by(NOW + H) == 1  # due strictly before its time, so gone at it
    assert "a" not in memory and "b" in memory
    assert memory.forget_due_by(NOW + 5 * H) == 1 and len(memory) == 0


def test_a_later_time_for_a_kept_id_extends_it_and_an_earlier_one_does_not_shorten_it() -> None:
    memory = Announced()
    memory.add("a", NOW + H)
    memory.add("a", NOW + 3 * H)
    memory.add("a", NOW + 2 * H)
    assert memory.forget_due_by(NOW + 2 * H) == 0 and "a" in memory
    assert memory.forget_due_by(NOW + 3 * H) == 1 and len(memory) == 0


@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(0, 100)), max_size=60), st.integers(0, 100)
)
@settings(max_examples=200)
def test_forgetting_keeps_exactly_the_ids_still_due(adds: list[tuple[int, int]], at: int) -> None:
    memory = Announced()
    latest: dict[str, int] = {}
    for name, minutes in adds:
        memory.add(str(name), NOW + timedelta(minutes=minutes))
        latest[str(name)] = max(latest.get(str(name), minutes), minutes)
    forgotten = memory.forget_due_by(NOW + timedelta(minutes=at))
    kept = {name for name, minutes in latest.items() if minutes > at}
    assert {name for name in latest if name in memory} == kept
    assert len(memory) == len(kept) and forgotten == len(latest) - len(kept)


def _inbound(customer: str, minutes: int) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id=PNID,
        wa_id=customer,
        message_id=f"wamid.{customer}.{minutes}",
        timestamp=NOW + timedelta(minutes=minutes),
        message_type="text",
        text="hi",
    )


async def test_over_days_of_windows_each_change_is_announced_once_and_then_forgotten() -> None:
    h = Harness()
    rng = random.Random(18)
    opening = sorted((rng.randrange(0, 48 * 60), f"1650555{n:04d}") for n in range(300))
    pending = list(opening)  # (minute, customer), over two days
    most = 0
    while h.now < NOW + 80 * H:  # every window has opened, expired and left its closed hour
        while pending and NOW + timedelta(minutes=pending[0][0]) <= h.now:
            minutes, customer = pending.pop(0)
            await h.handlers.on_inbound(_inbound(customer, minutes))
        await h.handlers.announce_due(LEAD, AGO)
        opened = [
            NOW + timedelta(minutes=m) for m, _ in opening if NOW + timedelta(minutes=m) <= h.now
        ]
        live = sum(1 for at in opened if h.now < at + 24 * H + AGO)  # open, or closed within AGO
        kept = len(h.handlers._announced)
        assert kept <= 3 * live, (h.now, kept, live)  # at most opened, expiring, closed each
        most = max(most, kept)
        h.now += timedelta(minutes=rng.randrange(1, 20))
    changes = sorted((w.wa_id, w.change) for w in h.windows())
    every = ("opened", "expiring", "closed")
    assert changes == sorted((c, change) for _, c in opening for change in every)
    assert len(h.handlers._announced) == 0
    assert 0 < most < len(opening)  # it held some, never one for every window
