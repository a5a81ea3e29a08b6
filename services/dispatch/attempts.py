"""Pure decisions around one send attempt: whether a queued intent may still go (and as
what), and what the Cloud API's answer means for it next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.dispatch.outcomes import Classification, approval_expired, classify
from services.dispatch.retry import RetryPolicy, kind_of, next_attempt_at
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted
from shared.events.reasons import Reason
from shared.meta_errors import Pace, SenderAction, meaning


@dataclass(frozen=True)
class BeforeSend:
    intent: OutboundIntentSubmitted | None  # what to send; None: do not send
    reason: str = ""
    detail: str = ""


def with_fallback(intent: OutboundIntentSubmitted) -> OutboundIntentSubmitted | None:
    """The intent as its fallback template, or None when it has none."""
    if intent.fallback_template is None or intent.is_template:
        return None
    return intent.model_copy(
        update={"content": intent.fallback_template, "fallback_template": None, "reply_to": None}
    )


def before_send(decision: PolicyDecisionMade, now: datetime) -> BeforeSend:
    """Send as approved, switch to the fallback template when the window's approval lapsed,
    or end the intent when its time is up."""
    intent = decision.intent
    if intent.not_after is not None and now >= intent.not_after:
        return BeforeSend(
            None, Reason.NOT_AFTER_PASSED, "the intent's not_after passed before sending"
        )
    if not intent.is_template and approval_expired(decision.valid_until, now):
        fallback = with_fallback(intent)
        if fallback is not None:
            return BeforeSend(fallback, Reason.FALLBACK_TEMPLATE)
        return BeforeSend(
            None, Reason.WINDOW_CLOSED, "the customer service window closed before sending"
        )
    return BeforeSend(intent)


Action = Literal["accepted", "retry", "hold", "fallback", "fail", "exhausted"]


@dataclass(frozen=True)
class AfterAnswer:
    action: Action
    code: str = "none"
    retry_at: datetime | None = None
    kind: Pace | None = None
    opt_out: bool = False


def after_answer(
    http_status: int,
    wamid: str | None,
    error: MetaError | None,
    *,
    intent: OutboundIntentSubmitted,
    attempt: int,
    now: datetime,
    jitter: float,
    policy: RetryPolicy,
) -> AfterAnswer:
    """What becomes of the intent after the Cloud API answered its `attempt`-th send."""
    if wamid is not None:
        return AfterAnswer("accepted")
    code = str(error.code) if error is not None else f"http_{http_status}"
    verdict = classify(http_status, error)
    if verdict is Classification.HOLD:
        return AfterAnswer("hold", code)
    if verdict is Classification.RETRY:
        kind = kind_of(http_status, error)
        at = next_attempt_at(kind, attempt, now, intent.not_after, jitter, policy)
        return AfterAnswer("retry" if at else "exhausted", code, at, kind)
    action = meaning(error.code).action if error is not None else SenderAction.FAIL
    if action is SenderAction.REENGAGE and with_fallback(intent) is not None:
        return AfterAnswer("fallback", code)
    return AfterAnswer("fail", code, opt_out=action is SenderAction.FEED_CONSENT)


def stops_marketing(error: MetaError) -> bool:
    """Whether Meta's error says the customer stopped marketing from this business."""
    return meaning(error.code).action is SenderAction.FEED_CONSENT


def may_resend_unconfirmed(
    intent: OutboundIntentSubmitted, attempts_made: int, now: datetime, policy: RetryPolicy
) -> bool:
    """Whether an unknown send that no status confirmed in time may be sent again."""
    if attempts_made >= policy.max_attempts:
        return False
    return intent.not_after is None or now < intent.not_after
