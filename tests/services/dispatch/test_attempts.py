"""One attempt's pure decisions: may it still go (and as what), and what the answer means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.dispatch.attempts import (
    after_answer,
    before_send,
    has_fallback,
    may_resend_unconfirmed,
    refused_window,
)
from services.dispatch.retry import RetryPolicy
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.reasons import Reason
from shared.meta_errors import Pace, Scope

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
    ("intent", "valid_until", "sends", "reason", "hand_back"),
    [
        pytest.param(_intent(), LATER, "text", "", False, id="approval-holds"),
        pytest.param(_intent(), None, None, "APPROVAL_EXPIRED", True, id="no-valid-until"),
        pytest.param(_intent(), EARLIER, None, "APPROVAL_EXPIRED", True, id="lapsed"),
        pytest.param(_intent(), NOW, None, "APPROVAL_EXPIRED", True, id="exactly-lapsed"),
        pytest.param(
            _intent(fallback=True), EARLIER, None, "APPROVAL_EXPIRED", True,
            id="lapsed-with-fallback-goes-back-to-policy",
        ),
        pytest.param(_intent(fallback=True), LATER, "text", "", False, id="fallback-unused"),
        pytest.param(
            _intent(template=True), EARLIER, None, "APPROVAL_EXPIRED", True,
            id="a-template-approval-lapses-too",
        ),
        pytest.param(
            _intent(template=True), LATER, "template", "", False, id="template-in-time"
        ),
        pytest.param(
            _intent(not_after=EARLIER), LATER, None, "NOT_AFTER_PASSED", False, id="too-late"
        ),
        pytest.param(
            _intent(not_after=NOW), LATER, None, "NOT_AFTER_PASSED", False, id="exactly-late"
        ),
        pytest.param(_intent(not_after=LATER), LATER, "text", "", False, id="in-time"),
        pytest.param(
            _intent(fallback=True, not_after=EARLIER), EARLIER, None, "NOT_AFTER_PASSED", False,
            id="too-late-beats-a-hand-back",
        ),
    ],
)  # fmt: skip
def test_before_send(
    intent: OutboundIntentSubmitted,
    valid_until: datetime | None,
    sends: str | None,
    reason: str,
    hand_back: bool,
) -> None:
    plan = before_send(_decision(intent, valid_until), NOW)
    assert (plan.intent.content.type if plan.intent else None) == sends
    assert plan.reason == reason
    assert plan.hand_back is hand_back
    if plan.intent is not None:  # exactly as approved, never dispatch's own alternative
        assert plan.intent == intent


def test_only_a_free_form_intent_naming_a_template_has_a_fallback_for_policy() -> None:
    assert has_fallback(_intent(fallback=True))
    assert not has_fallback(_intent())
    assert not has_fallback(_intent(template=True, fallback=True))


def test_131047_among_the_errors_is_the_window_refused() -> None:
    found = refused_window([MetaError(code=131026), MetaError(code=131047)])
    assert found is not None and found.code == 131047
    assert refused_window([MetaError(code=131026)]) is None
    assert refused_window([]) is None


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
            ("redecide", "131047", None, False, None),
            id="window-fallback-goes-back-to-policy",
        ),
        pytest.param(400, 132001, 1, None, ("fail", "132001", None, False, None), id="template"),
        pytest.param(403, 368, 1, None, ("hold", "368", None, False, None), id="blocked"),
        pytest.param(400, 131048, 1, None, ("hold", "131048", None, False, None), id="spam-rate"),
        pytest.param(400, 131064, 1, None, ("hold", "131064", None, False, None), id="misclass"),
        pytest.param(
            400, 131049, 1, None, ("redecide", "131049", None, False, None), id="marketing-cap"
        ),
        pytest.param(400, 130472, 1, None, ("fail", "130472", None, False, None), id="holdout"),
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
    ("message_status", "action"),
    [
        (None, "accepted"),
        ("accepted", "accepted"),
        ("held_for_quality_assessment", "paced"),
        ("something_new", "accepted"),
    ],
)
def test_a_wamid_held_for_quality_assessment_is_paced(
    message_status: str | None, action: str
) -> None:
    verdict = after_answer(
        200, "wamid.A", None, intent=_intent(), attempt=1, now=NOW, jitter=0.0, policy=POLICY,
        message_status=message_status,
    )  # fmt: skip
    assert verdict.action == action


@pytest.mark.parametrize(
    ("code", "scope", "reasons"),
    [
        (131048, Scope.PORTFOLIO, (Reason.SENDER_HELD,)),
        (131064, Scope.PORTFOLIO, (Reason.SENDER_HELD,)),
        (368, Scope.WABA, (Reason.SENDER_HELD,)),
        (190, None, ()),  # the credentials: the number alone, no account hold
        (131049, None, (Reason.CUSTOMER_MARKETING_HELD,)),
        (130472, None, (Reason.MARKETING_HOLDOUT,)),
        (131026, None, ()),
    ],
)
def test_a_sender_class_says_what_meta_stopped_and_why(
    code: int, scope: Scope | None, reasons: tuple[str, ...]
) -> None:
    verdict = after_answer(
        400, None, MetaError(code=code), intent=_intent(), attempt=1, now=NOW, jitter=0.0,
        policy=POLICY,
    )  # fmt: skip
    assert (verdict.scope, verdict.reasons) == (scope, reasons)


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
