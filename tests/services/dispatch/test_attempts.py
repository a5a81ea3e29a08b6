"""One attempt's pure decisions: may it still go (and as what), and what the answer means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.attempts import (
    after_answer,
    before_send,
    may_resend_unconfirmed,
    with_fallback,
)
from services.dispatch.retry import RetryPolicy
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.meta_errors import Pace

NOW = datetime(2025, 6, 8, 21, 0, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_s=1.0, cap_s=60.0, max_attempts=5)
FALLBACK = TemplateContent(name="order_update", language="en_US")


def _intent(
    *, fallback: bool = False, not_after: datetime | None = None, template: bool = False
) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="i-1",
        phone_number_id="pn",
        to="16505551234",
        content=FALLBACK if template else TextContent(body="hello"),
        fallback_template=FALLBACK if fallback else None,
        not_after=not_after,
        reply_to="wamid.Q",
    )


def _decision(intent: OutboundIntentSubmitted, valid_until: datetime | None) -> PolicyDecisionMade:
    return PolicyDecisionMade(intent=intent, outcome="approved", valid_until=valid_until)


LATER, EARLIER = NOW + timedelta(minutes=1), NOW - timedelta(seconds=1)


@pytest.mark.parametrize(
    ("intent", "valid_until", "sends", "reason"),
    [
        pytest.param(_intent(), None, "text", "", id="no-limits"),
        pytest.param(_intent(), LATER, "text", "", id="window-open"),
        pytest.param(_intent(), EARLIER, None, "WINDOW_CLOSED", id="window-closed"),
        pytest.param(
            _intent(fallback=True),
            EARLIER,
            "template",
            "FALLBACK_TEMPLATE",
            id="window-closed-fallback",
        ),
        pytest.param(_intent(fallback=True), LATER, "text", "", id="fallback-unused"),
        pytest.param(
            _intent(template=True), EARLIER, "template", "", id="template-needs-no-window"
        ),
        pytest.param(_intent(not_after=EARLIER), None, None, "NOT_AFTER_PASSED", id="too-late"),
        pytest.param(_intent(not_after=NOW), None, None, "NOT_AFTER_PASSED", id="exactly-late"),
        pytest.param(_intent(not_after=LATER), LATER, "text", "", id="in-time"),
        pytest.param(
            _intent(fallback=True, not_after=EARLIER),
            EARLIER,
            None,
            "NOT_AFTER_PASSED",
            id="too-late-beats-fallback",
        ),
    ],
)
def test_before_send(
    intent: OutboundIntentSubmitted, valid_until: datetime | None, sends: str | None, reason: str
) -> None:
    plan = before_send(_decision(intent, valid_until), NOW)
    assert (plan.intent.content.type if plan.intent else None) == sends
    assert plan.reason == reason


def test_the_fallback_drops_the_quote_and_a_template_has_no_fallback() -> None:
    switched = with_fallback(_intent(fallback=True))
    assert switched is not None and switched.content == FALLBACK and switched.reply_to is None
    assert with_fallback(_intent()) is None
    assert with_fallback(_intent(template=True, fallback=True)) is None


def _answer(
    http_status: int,
    code: int | None,
    *,
    attempt: int = 1,
    intent: OutboundIntentSubmitted | None = None,
    wamid: str | None = None,
) -> tuple[str, str, Pace | None, bool, datetime | None]:
    error = MetaError(code=code) if code is not None else None
    verdict = after_answer(
        http_status, wamid, error, intent=intent or _intent(), attempt=attempt, now=NOW,
        jitter=0.0, policy=POLICY,
    )  # fmt: skip
    return verdict.action, verdict.code, verdict.kind, verdict.opt_out, verdict.retry_at


S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("http_status", "code", "attempt", "intent", "expected"),
    [
        pytest.param(
            400,
            130429,
            1,
            None,
            ("retry", "130429", Pace.THROTTLED, False, NOW + S),
            id="throttled",
        ),
        pytest.param(
            400,
            131056,
            2,
            None,
            ("retry", "131056", Pace.PAIR_RATE, False, NOW + 2 * S),
            id="pair-rate",
        ),
        pytest.param(
            503,
            None,
            1,
            None,
            ("retry", "http_503", Pace.TRANSIENT, False, NOW + S / 2),
            id="5xx",
        ),
        pytest.param(
            0, -1, 1, None, ("retry", "-1", Pace.TRANSIENT, False, NOW + S / 2), id="unreached"
        ),
        pytest.param(
            400,
            130429,
            5,
            None,
            ("exhausted", "130429", Pace.THROTTLED, False, None),
            id="max-attempts",
        ),
        pytest.param(
            400,
            131000,
            1,
            _intent(not_after=NOW + S / 4),
            ("exhausted", "131000", Pace.TRANSIENT, False, None),
            id="past-not-after",
        ),
        pytest.param(401, 190, 1, None, ("hold", "190", None, False, None), id="token-expired"),
        pytest.param(403, 200, 1, None, ("hold", "200", None, False, None), id="permission"),
        pytest.param(400, 131050, 1, None, ("fail", "131050", None, True, None), id="opt-out"),
        pytest.param(400, 131047, 1, None, ("fail", "131047", None, False, None), id="window"),
        pytest.param(
            400,
            131047,
            1,
            _intent(fallback=True),
            ("fallback", "131047", None, False, None),
            id="window-fallback",
        ),
        pytest.param(400, 132001, 1, None, ("fail", "132001", None, False, None), id="template"),
        pytest.param(403, 368, 1, None, ("fail", "368", None, False, None), id="blocked"),
        pytest.param(400, None, 1, None, ("fail", "http_400", None, False, None), id="bare-400"),
    ],
)
def test_after_answer(
    http_status: int,
    code: int | None,
    attempt: int,
    intent: OutboundIntentSubmitted | None,
    expected: tuple[str, str, Pace | None, bool, datetime | None],
) -> None:
    assert _answer(http_status, code, attempt=attempt, intent=intent) == expected


def test_a_wamid_means_accepted() -> None:
    assert _answer(200, None, wamid="wamid.A")[0] == "accepted"


@pytest.mark.parametrize(
    ("attempts", "not_after", "resend"),
    [
        (1, None, True),
        (4, LATER, True),
        (5, None, False),
        (1, NOW, False),
        (1, EARLIER, False),
    ],
)
def test_an_unconfirmed_send_is_resent_only_while_time_and_attempts_allow(
    attempts: int, not_after: datetime | None, resend: bool
) -> None:
    intent = _intent(not_after=not_after)
    assert may_resend_unconfirmed(intent, attempts, NOW, POLICY) is resend
