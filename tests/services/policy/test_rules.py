"""Policy's decision: free-form only inside the window (minus a safety margin), never late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy import rules
from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.windows import WindowState
from shared.events.decisions import WindowSnapshot
from shared.events.intents import (
    InteractiveContent,
    LocationContent,
    MediaContent,
    MessageContent,
    OutboundIntentSubmitted,
    ReactionContent,
    TemplateContent,
    TextContent,
)

NOW = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
MARGIN = timedelta(seconds=60)
CONFIG = PolicyConfig(window_safety_margin=MARGIN)
DAY = timedelta(hours=24)

TEXT = TextContent(body="Yes, it comes in blue too.")
TEMPLATE = TemplateContent(name="order_confirmation", language="en_US")
FREE_FORM: dict[str, MessageContent] = {
    "text": TEXT,
    "image": MediaContent(type="image", id="1013859600285441"),
    "location": LocationContent(latitude=37.4421, longitude=-122.1615),
    "reaction": ReactionContent(message_id="wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQz", emoji="👍"),
    "interactive": InteractiveContent(
        interactive={
            "type": "button",
            "body": {"text": "Pick one"},
            "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]},
        }
    ),
}


def _intent(
    content: MessageContent = TEXT, not_after: datetime | None = None
) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="order-860198",
        phone_number_id="106540352242922",
        to="16505551234",
        content=content,
        not_after=not_after,
    )


def _window(age: timedelta) -> WindowState:
    """A window opened by a customer message `age` before NOW."""
    return WindowState(last_customer_message_at=NOW - age, last_message_id="wamid.in")


@pytest.mark.parametrize(
    "age",
    [
        pytest.param(timedelta(0), id="just-now"),
        pytest.param(timedelta(hours=1), id="an-hour-ago"),
        pytest.param(DAY - MARGIN - timedelta(seconds=1), id="a-second-before-the-margin"),
    ],
)
def test_free_form_inside_the_window_is_approved_until_expiry_minus_margin(
    age: timedelta,
) -> None:
    window = _window(age)
    expires = NOW - age + DAY

    verdict = decide(_intent(), Facts(window=window), NOW, CONFIG)

    assert verdict.outcome == "approved"
    assert verdict.reasons == []
    assert verdict.valid_until == expires - MARGIN
    assert verdict.pricing == "free_service"
    assert verdict.window == WindowSnapshot(
        last_customer_message_at=NOW - age, expires_at=expires, is_open=True
    )


@pytest.mark.parametrize("kind", sorted(FREE_FORM))
def test_every_free_form_type_follows_the_window(kind: str) -> None:
    intent = _intent(FREE_FORM[kind])

    inside = decide(intent, Facts(window=_window(timedelta(hours=1))), NOW, CONFIG)
    outside = decide(intent, Facts(window=_window(timedelta(hours=25))), NOW, CONFIG)

    assert inside.outcome == "approved"
    assert outside.outcome == "rejected"
    assert outside.reasons == ["WINDOW_CLOSED"]


@pytest.mark.parametrize(
    ("not_after", "valid_until"),
    [
        pytest.param(
            NOW + timedelta(minutes=5), NOW + timedelta(minutes=5), id="not-after-comes-first"
        ),
        pytest.param(
            NOW + timedelta(hours=30), NOW + timedelta(hours=23) - MARGIN, id="window-comes-first"
        ),
        pytest.param(
            NOW + timedelta(hours=23) - MARGIN,
            NOW + timedelta(hours=23) - MARGIN,
            id="both-at-once",
        ),
    ],
)
def test_valid_until_is_the_earlier_of_not_after_and_the_usable_window(
    not_after: datetime, valid_until: datetime
) -> None:
    verdict = decide(
        _intent(not_after=not_after), Facts(window=_window(timedelta(hours=1))), NOW, CONFIG
    )

    assert verdict.outcome == "approved"
    assert verdict.valid_until == valid_until


@pytest.mark.parametrize(
    "window", [pytest.param(None, id="no-state"), pytest.param(WindowState(), id="empty-state")]
)
def test_without_a_customer_message_free_form_is_rejected(window: WindowState | None) -> None:
    verdict = decide(_intent(), Facts(window=window), NOW, CONFIG)

    assert verdict.outcome == "rejected"
    assert verdict.reasons == ["WINDOW_CLOSED"]
    assert "no customer message" in verdict.detail
    assert "only approved templates" in verdict.detail
    assert verdict.window == WindowSnapshot(
        last_customer_message_at=None, expires_at=None, is_open=False
    )
    assert verdict.valid_until is None
    assert verdict.pricing is None


@pytest.mark.parametrize(
    ("age", "snapshot_open"),
    [
        pytest.param(DAY + timedelta(hours=1), False, id="expired-an-hour-ago"),
        pytest.param(DAY, False, id="expires-exactly-now"),
        pytest.param(DAY - MARGIN, True, id="margin-starts-now"),
        pytest.param(DAY - timedelta(seconds=30), True, id="inside-the-margin"),
        pytest.param(DAY - timedelta(microseconds=1), True, id="last-microsecond"),
    ],
)
def test_a_closed_window_or_one_inside_the_safety_margin_is_rejected(
    age: timedelta, snapshot_open: bool
) -> None:
    window = _window(age)
    expires = NOW - age + DAY

    verdict = decide(_intent(), Facts(window=window), NOW, CONFIG)

    assert verdict.outcome == "rejected"
    assert verdict.reasons == ["WINDOW_CLOSED"]
    assert expires.isoformat() in verdict.detail
    assert verdict.window == WindowSnapshot(
        last_customer_message_at=NOW - age, expires_at=expires, is_open=snapshot_open
    )
    assert verdict.valid_until is None


@pytest.mark.parametrize(
    ("margin", "age", "outcome"),
    [
        (timedelta(0), DAY - timedelta(seconds=1), "approved"),
        (timedelta(0), DAY, "rejected"),
        (timedelta(minutes=10), DAY - timedelta(minutes=11), "approved"),
        (timedelta(minutes=10), DAY - timedelta(minutes=9), "rejected"),
    ],
)
def test_the_safety_margin_is_configurable(margin: timedelta, age: timedelta, outcome: str) -> None:
    config = PolicyConfig(window_safety_margin=margin)

    verdict = decide(_intent(), Facts(window=_window(age)), NOW, config)

    assert verdict.outcome == outcome
    if outcome == "approved":
        assert verdict.valid_until == NOW - age + DAY - margin


def test_default_safety_margin_is_a_minute() -> None:
    assert PolicyConfig().window_safety_margin == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("content", "window"),
    [
        pytest.param(TEXT, _window(timedelta(hours=1)), id="free-form-in-open-window"),
        pytest.param(TEXT, None, id="free-form-no-window"),
        pytest.param(TEMPLATE, None, id="template"),
    ],
)
@pytest.mark.parametrize(
    "not_after",
    [
        pytest.param(NOW, id="exactly-now"),
        pytest.param(NOW - timedelta(seconds=1), id="a-second-ago"),
        pytest.param(NOW - timedelta(days=2), id="days-ago"),
    ],
)
def test_an_intent_past_not_after_is_rejected_as_expired(
    content: MessageContent, window: WindowState | None, not_after: datetime
) -> None:
    verdict = decide(_intent(content, not_after=not_after), Facts(window=window), NOW, CONFIG)

    assert verdict.outcome == "rejected"
    assert verdict.reasons == ["EXPIRED"]
    assert not_after.isoformat() in verdict.detail
    assert verdict.valid_until is None


@pytest.mark.parametrize(
    "window",
    [
        pytest.param(None, id="no-window"),
        pytest.param(_window(timedelta(hours=1)), id="open-window"),
        pytest.param(_window(timedelta(hours=30)), id="closed-window"),
    ],
)
def test_templates_are_rejected_while_no_template_state_is_known(
    window: WindowState | None,
) -> None:
    verdict = decide(
        _intent(TEMPLATE, not_after=NOW + timedelta(hours=1)), Facts(window=window), NOW, CONFIG
    )

    assert verdict.outcome == "rejected"
    assert verdict.reasons == ["TEMPLATE_UNKNOWN"]
    assert verdict.detail
    assert verdict.valid_until is None
    expected_open = window is not None and window.is_open(NOW)
    assert verdict.window is not None
    assert verdict.window.is_open is expected_open


@pytest.mark.parametrize(
    ("window", "now", "expected"),
    [
        pytest.param(None, NOW, WindowSnapshot(), id="none"),
        pytest.param(
            WindowState(last_customer_message_at=NOW - timedelta(hours=2)),
            NOW,
            WindowSnapshot(
                last_customer_message_at=NOW - timedelta(hours=2),
                expires_at=NOW + timedelta(hours=22),
                is_open=True,
            ),
            id="open",
        ),
        pytest.param(
            WindowState(last_customer_message_at=NOW - timedelta(hours=2)),
            NOW + timedelta(hours=22),
            WindowSnapshot(
                last_customer_message_at=NOW - timedelta(hours=2),
                expires_at=NOW + timedelta(hours=22),
                is_open=False,
            ),
            id="closed-at-expiry",
        ),
    ],
)
def test_snapshot(window: WindowState | None, now: datetime, expected: WindowSnapshot) -> None:
    assert rules.snapshot(window, now) == expected


def test_decide_is_a_pure_function_of_its_inputs() -> None:
    intent, window = _intent(), _window(timedelta(hours=3))

    assert decide(intent, Facts(window=window), NOW, CONFIG) == decide(
        intent, Facts(window=window), NOW, CONFIG
    )


@pytest.mark.parametrize(
    ("age", "says"),
    [
        pytest.param(None, "no customer message opened", id="never-opened"),
        pytest.param(DAY + timedelta(minutes=5), "window closed at", id="closed"),
        pytest.param(DAY - timedelta(seconds=30), "inside the safety margin", id="in-margin"),
    ],
)
def test_the_rejection_says_why_the_window_cannot_be_used(age: timedelta | None, says: str) -> None:
    window = _window(age) if age is not None else None
    verdict = decide(_intent(), Facts(window=window), NOW, CONFIG)
    assert verdict.reasons == ["WINDOW_CLOSED"]
    assert says in verdict.detail
    assert verdict.detail.endswith("outside it only approved templates may be sent")
