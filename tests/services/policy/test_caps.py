"""Marketing caps over rolling windows: a day and a week, each of which can be switched off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy import caps
from services.policy.caps import Caps, MarketingLog

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("ago", "limits", "until"),
    [
        pytest.param((), Caps(1, 3), None, id="nothing-sent"),
        pytest.param((2 * H,), Caps(1, 3), NOW + 22 * H, id="daily-blocks-until-a-day-after"),
        pytest.param((2 * H,), Caps(2, 3), None, id="room-left-today"),
        pytest.param((24 * H,), Caps(1, 3), None, id="exactly-a-day-ago"),
        pytest.param((30 * H, 60 * H, 90 * H), Caps(1, 3), NOW + 78 * H, id="weekly"),
        pytest.param((8 * 24 * H,), Caps(1, 1), None, id="older-than-a-week"),
        pytest.param((H, 2 * H), Caps(0, 3), None, id="zero-switches-the-daily-cap-off"),
    ],
)
def test_blocked_until(ago: tuple[timedelta, ...], limits: Caps, until: datetime | None) -> None:
    log = MarketingLog(sent_at=tuple(NOW - a for a in ago))
    assert caps.blocked_until(log, NOW, limits) == until


def test_sent_keeps_only_the_last_week() -> None:
    log = MarketingLog(sent_at=(NOW - 8 * 24 * H, NOW - 2 * H))
    assert caps.sent(log, NOW).sent_at == (NOW - 2 * H, NOW)
