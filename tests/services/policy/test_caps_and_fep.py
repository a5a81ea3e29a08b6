"""Marketing caps over rolling windows; free entry points after click-to-WhatsApp referrals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy import caps, windows
from services.policy.caps import Caps, MarketingLog
from services.policy.windows import WindowState
from shared.events.webhooks import InboundMessageReceived

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


def _inbound(at: datetime, referral: bool = False) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id="1",
        wa_id="2",
        message_id=f"wamid.{at.timestamp()}",
        timestamp=at,
        message_type="text",
        text="hi",
        referral={"source_type": "ad", "ctwa_clid": "x"} if referral else None,
    )


def test_a_referral_then_a_reply_within_a_day_opens_72_hours_free() -> None:
    state = windows.observe(None, _inbound(NOW - 2 * H, referral=True))
    assert state is not None and state.referral_at == NOW - 2 * H
    opened = windows.business_replied(state, NOW)
    assert opened is not None and opened.free_entry_until == NOW + 72 * H
    assert opened.in_free_entry_point(NOW + 71 * H) and not opened.in_free_entry_point(NOW + 72 * H)
    assert windows.business_replied(opened, NOW + H) is None  # once only


def test_a_reply_after_a_day_or_without_a_referral_opens_nothing() -> None:
    late = windows.observe(None, _inbound(NOW - 25 * H, referral=True))
    assert late is not None and windows.business_replied(late, NOW) is None
    plain = windows.observe(None, _inbound(NOW - H))
    assert plain is not None and windows.business_replied(plain, NOW) is None


def test_a_later_message_without_referral_keeps_the_referral() -> None:
    state = windows.observe(None, _inbound(NOW - 3 * H, referral=True))
    later = windows.observe(state, _inbound(NOW - H))
    assert later is not None and later.referral_at == NOW - 3 * H
    assert WindowState().free_entry_until is None
