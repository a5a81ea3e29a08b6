"""Customer service windows: which inbound messages open them, and when they close; the
changes the timer announces; free entry points after click-to-WhatsApp referrals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy import windows
from services.policy.windows import WindowState, observe
from shared.events.webhooks import InboundMessageReceived

T0 = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
PNID = "106540352242922"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
LEAD = H
AGO = timedelta(hours=1)


def _message(
    kind: str = "text", at: datetime = T0, wamid: str = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRB"
) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id=PNID,
        wa_id="16505551234",
        message_id=wamid,
        timestamp=at,
        message_type=kind,
    )


OPENING = [
    "text",
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "location",
    "contacts",
    "interactive",
    "button",
    "order",
]
NOT_OPENING = ["reaction", "system", "revoke", "edit", "unsupported"]


@pytest.mark.parametrize("kind", OPENING)
def test_a_customer_message_opens_the_window(kind: str) -> None:
    state = observe(None, _message(kind, T0, "wamid.first"))

    assert state is not None
    assert state.last_customer_message_at == T0
    assert state.last_message_id == "wamid.first"
    assert state.expires_at == T0 + timedelta(hours=24)


@pytest.mark.parametrize("kind", NOT_OPENING)
@pytest.mark.parametrize(
    "before",
    [
        pytest.param(None, id="no-window"),
        pytest.param(WindowState(last_customer_message_at=T0 - timedelta(hours=30)), id="closed"),
        pytest.param(WindowState(last_customer_message_at=T0 - timedelta(hours=1)), id="open"),
    ],
)
def test_reactions_and_non_content_messages_change_nothing(
    kind: str, before: WindowState | None
) -> None:
    assert observe(before, _message(kind, T0)) is None


@pytest.mark.parametrize(
    ("last", "incoming", "expected"),
    [
        pytest.param(T0, T0 + timedelta(hours=5), T0 + timedelta(hours=5), id="newer-refreshes"),
        pytest.param(
            T0, T0 + timedelta(seconds=1), T0 + timedelta(seconds=1), id="one-second-later"
        ),
        pytest.param(T0, T0 + timedelta(days=3), T0 + timedelta(days=3), id="reopens-after-close"),
        pytest.param(T0, T0 - timedelta(hours=2), None, id="older-out-of-order-ignored"),
        pytest.param(T0, T0 - timedelta(seconds=1), None, id="one-second-older-ignored"),
        pytest.param(T0, T0, None, id="same-timestamp-ignored"),
    ],
)
def test_the_latest_meta_timestamp_wins(
    last: datetime, incoming: datetime, expected: datetime | None
) -> None:
    before = WindowState(last_customer_message_at=last, last_message_id="wamid.before")

    after = observe(before, _message("text", incoming, "wamid.incoming"))

    if expected is None:  # the window stays; the message is remembered for read receipts
        assert after is not None
        assert after.last_customer_message_at == last
        assert after.last_message_id == "wamid.before"
        assert after.recent_message_ids == ("wamid.incoming",)
        assert observe(after, _message("text", incoming, "wamid.incoming")) is None
    else:
        assert after is not None
        assert after.last_customer_message_at == expected
        assert after.last_message_id == "wamid.incoming"
        assert after.expires_at == expected + timedelta(hours=24)


def test_out_of_order_delivery_ends_on_the_latest_message() -> None:
    arrivals = [
        _message("text", T0 + timedelta(minutes=10), "wamid.m3"),
        _message("text", T0, "wamid.m1"),
        _message("image", T0 + timedelta(minutes=5), "wamid.m2"),
        _message("reaction", T0 + timedelta(minutes=20), "wamid.r1"),
    ]
    state: WindowState | None = None
    for message in arrivals:
        state = observe(state, message) or state

    assert state is not None
    assert state.last_customer_message_at == T0 + timedelta(minutes=10)
    assert state.last_message_id == "wamid.m3"


def test_an_empty_state_is_opened_like_no_state() -> None:
    state = observe(WindowState(), _message("text", T0))

    assert state is not None
    assert state.last_customer_message_at == T0


def test_observe_does_not_mutate_the_previous_state() -> None:
    before = WindowState(last_customer_message_at=T0, last_message_id="wamid.before")

    observe(before, _message("text", T0 + timedelta(hours=1)))

    assert before.last_customer_message_at == T0
    assert before.last_message_id == "wamid.before"


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        pytest.param(T0, True, id="at-the-message"),
        pytest.param(T0 + timedelta(hours=23, minutes=59, seconds=59), True, id="last-second"),
        pytest.param(T0 + timedelta(hours=24) - timedelta(microseconds=1), True, id="last-micro"),
        pytest.param(T0 + timedelta(hours=24), False, id="exactly-at-expiry"),
        pytest.param(T0 + timedelta(hours=24, seconds=1), False, id="after-expiry"),
        pytest.param(T0 + timedelta(days=10), False, id="long-after"),
    ],
)
def test_the_window_is_open_strictly_before_expiry(now: datetime, is_open: bool) -> None:
    state = WindowState(last_customer_message_at=T0)

    assert state.is_open(now) is is_open


def test_no_customer_message_means_no_window() -> None:
    state = WindowState()

    assert state.expires_at is None
    assert state.is_open(T0) is False


def test_expiry_is_24_hours_after_the_message_in_any_timezone() -> None:
    at = datetime.fromisoformat("2025-06-08T23:00:00+02:00")

    state = observe(None, _message("text", at))

    assert state is not None
    assert state.expires_at == datetime(2025, 6, 9, 21, 0, 0, tzinfo=UTC)


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


@pytest.mark.parametrize("minutes", [-70, -61, -60, -59, -1, 0, 1, 59, 60, 61])
def test_a_change_is_due_only_before_its_due_until(minutes: int) -> None:
    """What `due_until` says matches what `due_changes` yields: at and after it, no more."""
    expires = NOW + timedelta(minutes=minutes)
    state = WindowState(last_customer_message_at=expires - 24 * H)
    for change in windows.due_changes(state, NOW, LEAD, closed_within=AGO):
        assert windows.due_until(expires, change, AGO) > NOW
    for change in ("expiring", "closed"):
        at = windows.due_until(expires, change, AGO)
        assert change not in windows.due_changes(state, at, LEAD, closed_within=AGO)


def _from_customer(at: datetime, referral: bool = False) -> InboundMessageReceived:
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
    state = windows.observe(None, _from_customer(NOW - 2 * H, referral=True))
    assert state is not None and state.referral_at == NOW - 2 * H
    opened = windows.business_replied(state, NOW)
    assert opened is not None and opened.free_entry_until == NOW + 72 * H
    assert opened.in_free_entry_point(NOW + 71 * H) and not opened.in_free_entry_point(NOW + 72 * H)
    assert windows.business_replied(opened, NOW + H) is None  # once only


def test_a_reply_after_a_day_or_without_a_referral_opens_nothing() -> None:
    late = windows.observe(None, _from_customer(NOW - 25 * H, referral=True))
    assert late is not None and windows.business_replied(late, NOW) is None
    plain = windows.observe(None, _from_customer(NOW - H))
    assert plain is not None and windows.business_replied(plain, NOW) is None


def test_a_later_message_without_referral_keeps_the_referral() -> None:
    state = windows.observe(None, _from_customer(NOW - 3 * H, referral=True))
    later = windows.observe(state, _from_customer(NOW - H))
    assert later is not None and later.referral_at == NOW - 3 * H
    assert WindowState().free_entry_until is None


def _replied(state: WindowState | None, at: datetime) -> WindowState:
    assert state is not None
    return windows.business_replied(state, at) or state


@pytest.mark.parametrize(
    ("steps", "free_until"),
    [
        pytest.param(
            [("ad", -100), ("reply", -99), ("ad", -10), ("reply", -9)],
            -9 + 72,
            id="a-second-referral-after-the-first-free-entry-point-ended-opens-another",
        ),
        pytest.param(
            [("ad", -30), ("reply", -29), ("ad", -10), ("reply", -9)],
            -29 + 72,
            id="an-open-free-entry-point-runs-to-its-end",
        ),
        pytest.param(
            [("ad", -80), ("reply", -79), ("ad", -10), ("reply", -8), ("reply", 0)],
            0 + 72,
            id="the-second-offer-is-taken-up-after-the-first-ended-within-its-day",
        ),
        pytest.param(
            [("ad", -30), ("reply", -29), ("ad", -10), ("reply", 15)],
            -29 + 72,
            id="a-reply-more-than-a-day-after-the-second-referral-opens-nothing",
        ),
        pytest.param(
            [("ad", -100), ("reply", -99), ("text", -10), ("reply", -9)],
            -99 + 72,
            id="a-message-without-referral-offers-nothing-new",
        ),
    ],
)
def test_each_click_to_whatsapp_referral_offers_a_free_entry_point(
    steps: list[tuple[str, int]], free_until: int
) -> None:
    state: WindowState | None = None
    for step, hours in steps:
        at = NOW + hours * H
        if step == "reply":
            state = _replied(state, at)
        else:
            state = windows.observe(state, _from_customer(at, referral=step == "ad")) or state
    assert state is not None and state.free_entry_until == NOW + free_until * H


def test_a_late_referral_older_than_the_last_message_still_counts() -> None:
    state = windows.observe(None, _from_customer(NOW - H))
    late = windows.observe(state, _from_customer(NOW - 2 * H, referral=True))
    assert late is not None
    assert late.referral_at == NOW - 2 * H and late.last_customer_message_at == NOW - H
    older = windows.observe(late, _from_customer(NOW - 3 * H, referral=True))
    assert older is not None  # only remembered, for read receipts
    assert (older.referral_at, older.last_customer_message_at) == (NOW - 2 * H, NOW - H)


SKEW = timedelta(seconds=120)


@pytest.mark.parametrize(
    ("timestamp", "occurred_at", "now", "seen"),
    [
        pytest.param(NOW - H, NOW, NOW, NOW - H, id="in-the-past-stands"),
        pytest.param(NOW + SKEW, NOW, NOW, NOW + SKEW, id="inside-the-skew-stands"),
        pytest.param(NOW + SKEW + timedelta(seconds=1), NOW, NOW, NOW, id="beyond-the-skew"),
        pytest.param(datetime(9999, 1, 1, tzinfo=UTC), NOW, NOW + H, NOW, id="centuries-ahead"),
        pytest.param(
            datetime(2999, 1, 1, tzinfo=UTC),
            datetime(2999, 1, 1, tzinfo=UTC),
            NOW,
            NOW,
            id="a-receipt-in-the-future-is-bounded-by-now",
        ),
        pytest.param(NOW + 2 * H, NOW + H, NOW + 3 * H, NOW + H, id="processed-late"),
    ],
)
def test_a_window_opens_no_later_than_the_message_was_received(
    timestamp: datetime, occurred_at: datetime, now: datetime, seen: datetime
) -> None:
    message = _from_customer(timestamp).model_copy(update={"occurred_at": occurred_at})
    assert windows.seen_at(message, now, SKEW) == seen
    state = windows.observe(None, message, windows.seen_at(message, now, SKEW))
    assert state is not None and state.last_customer_message_at == seen
