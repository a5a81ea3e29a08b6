"""Window events: `opened` from customer messages, `expiring` and `closed` from the timer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from services.policy import windows
from services.policy.handlers import PolicyHandlers
from services.policy.metrics import PolicyMetrics
from services.policy.rules import PolicyConfig
from services.policy.tables import Tables
from services.policy.windows import WindowState
from shared import codec
from shared.events.webhooks import InboundMessageReceived
from shared.events.windows import WindowChanged
from shared.metrics import new_registry

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
LEAD = H
AGO = timedelta(hours=1)


@pytest.mark.parametrize(
    ("age", "changes"),
    [
        pytest.param(H, [], id="fresh"),
        pytest.param(23 * H - timedelta(seconds=1), [], id="a-second-before-the-lead"),
        pytest.param(23 * H, ["expiring"], id="lead-starts"),
        pytest.param(24 * H - timedelta(seconds=1), ["expiring"], id="last-second"),
        pytest.param(24 * H, ["closed"], id="closed"),
        pytest.param(25 * H - timedelta(seconds=1), ["closed"], id="closed-recently"),
        pytest.param(25 * H, [], id="closed-long-ago"),
    ],
)
def test_due_changes(age: timedelta, changes: list[str]) -> None:
    state = WindowState(last_customer_message_at=NOW - age)
    assert windows.due_changes(state, NOW, LEAD, closed_within=AGO) == changes
    assert windows.due_changes(WindowState(), NOW, LEAD, closed_within=AGO) == []


def _inbound(at: datetime, wamid: str) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id="106540352242922",
        wa_id="16505551234",
        message_id=wamid,
        timestamp=at,
        message_type="text",
        text="hi",
    )


def _handlers(clock: list[datetime]) -> tuple[PolicyHandlers, list[WindowChanged]]:
    announced: list[WindowChanged] = []

    def emit(into: list[WindowChanged] | None) -> Callable[[str, bytes], Awaitable[None]]:
        async def send(_key: str, value: bytes) -> None:
            if into is not None:
                into.append(codec.decode(WindowChanged, value))

        return send

    handlers = PolicyHandlers(
        tables=Tables(
            windows={}, consent={}, marketing={}, templates={}, deferred={}, reach={}, limits={}
        ),
        config=PolicyConfig(),
        metrics=PolicyMetrics(new_registry()),
        emit_decision=emit(None),
        reroute_intent=emit(None),
        emit_window=emit(announced),
        release_intent=emit(None),
        clock=lambda: clock[0],
    )
    return handlers, announced


async def test_a_window_announces_opened_expiring_closed_once_each() -> None:
    clock = [NOW]
    handlers, announced = _handlers(clock)
    await handlers.on_inbound(_inbound(NOW - timedelta(minutes=1), "wamid.1"))
    await handlers.on_inbound(_inbound(NOW, "wamid.2"))  # a refresh, not a new opening
    clock[0] = NOW + 23 * H + timedelta(minutes=5)
    assert await handlers.announce_due(LEAD, AGO) == 1
    assert await handlers.announce_due(LEAD, AGO) == 0
    clock[0] = NOW + 24 * H + timedelta(minutes=5)
    assert await handlers.announce_due(LEAD, AGO) == 1
    assert [e.change for e in announced] == ["opened", "expiring", "closed"]
    assert {e.expires_at for e in announced[1:]} == {NOW + 24 * H}
    assert announced[0].wa_id == "16505551234"


async def test_a_message_after_the_window_closed_opens_it_again() -> None:
    clock = [NOW]
    handlers, announced = _handlers(clock)
    await handlers.on_inbound(_inbound(NOW - 30 * H, "wamid.old"))  # arrives late: closed
    await handlers.on_inbound(_inbound(NOW, "wamid.new"))
    assert [e.change for e in announced] == ["opened"]
    assert announced[0].last_customer_message_at == NOW
