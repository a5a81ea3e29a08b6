"""Pure decisions around one send attempt: whether a queued intent may still go as approved,
and what the Cloud API's answer means for it next. Dispatch never picks an alternative itself:
when the approval lapsed or Meta says the window is closed, policy decides again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.dispatch.outcomes import Classification, approval_expired, classify
from services.dispatch.retry import RetryPolicy, kind_of, next_attempt_at
from shared.events.common import MetaError
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import OutboundIntentSubmitted
from shared.events.reasons import Reason
from shared.meta_errors import Pace, Scope, SenderAction, meaning

PACED = "held_for_quality_assessment"  # Meta's `message_status` for a paced template's message


@dataclass(frozen=True)
class BeforeSend:
    intent: OutboundIntentSubmitted | None  # what to send; None: do not send
    reason: str = ""
    detail: str = ""
    hand_back: bool = False  # not sent: policy decides it again with the state of now


def before_send(decision: PolicyDecisionMade, now: datetime) -> BeforeSend:
    """Send exactly what policy approved while its approval holds; once `valid_until` has
    passed (or an approval carries none), policy decides again; once `not_after` has passed,
    the intent ends."""
    intent = decision.intent
    if intent.not_after is not None and now >= intent.not_after:
        return BeforeSend(
            None, Reason.NOT_AFTER_PASSED, "the intent's not_after passed before sending"
        )
    if decision.valid_until is None or approval_expired(decision.valid_until, now):
        until = decision.valid_until.isoformat() if decision.valid_until else "none"
        detail = f"the approval held until {until}; not sent by then"
        return BeforeSend(None, Reason.APPROVAL_EXPIRED, detail, hand_back=True)
    return BeforeSend(intent)


def refused_window(errors: Sequence[MetaError]) -> MetaError | None:
    """Meta's 131047 among the errors (the window is closed at Meta's end), if there."""
    return next((e for e in errors if meaning(e.code).action is SenderAction.REENGAGE), None)


def customer_held(errors: Sequence[MetaError]) -> MetaError | None:
    """Meta's 131049 among the errors (the customer's marketing is capped for now), if there."""
    return next((e for e in errors if meaning(e.code).action is SenderAction.HOLD_CUSTOMER), None)


def explained(code: int) -> tuple[str, ...]:
    """wagate's reasons beside Meta's code, where the code is a case of its own."""
    if meaning(code).action is SenderAction.HOLDOUT:
        return (Reason.MARKETING_HOLDOUT,)
    return ()


Action = Literal["accepted", "paced", "retry", "hold", "redecide", "fail", "exhausted"]


@dataclass(frozen=True)
class AfterAnswer:
    action: Action
    code: str = "none"
    retry_at: datetime | None = None
    kind: Pace | None = None
    opt_out: bool = False
    scope: Scope | None = None  # a hold of more than the credentials: what Meta stopped
    reasons: tuple[str, ...] = ()  # wagate's reasons beside the code


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
    success: bool = False,
    message_status: str | None = None,
) -> AfterAnswer:
    """What becomes of the intent after the Cloud API answered its `attempt`-th send: a wamid
    held for a paced template is `paced` (`success`: Meta's `{"success": true}`, which a read
    receipt gets instead of a wamid); Meta's stop of the sender holds it, and its cap on the
    customer's marketing (131049) hands it back to policy, which holds that marketing."""
    if wamid is not None:
        return AfterAnswer("paced" if message_status == PACED else "accepted")
    if success and intent.is_read_receipt:
        return AfterAnswer("accepted")
    code = str(error.code) if error is not None else f"http_{http_status}"
    verdict = classify(http_status, error)
    found = meaning(error.code) if error is not None else None
    if verdict is Classification.HOLD:
        scope = found.scope if found is not None else None
        return AfterAnswer("hold", code, scope=scope, reasons=_held(scope))
    if verdict is Classification.RETRY:
        kind = kind_of(http_status, error)
        at = next_attempt_at(kind, attempt, now, intent.not_after, jitter, policy)
        return AfterAnswer("retry" if at else "exhausted", code, at, kind)
    action = found.action if found is not None else SenderAction.FAIL
    if action is SenderAction.REENGAGE and has_fallback(intent):
        return AfterAnswer("redecide", code)
    if action is SenderAction.HOLD_CUSTOMER:
        return AfterAnswer("redecide", code, reasons=(Reason.CUSTOMER_MARKETING_HELD,))
    reasons = explained(error.code) if error is not None else ()
    return AfterAnswer("fail", code, opt_out=action is SenderAction.FEED_CONSENT, reasons=reasons)


def _held(scope: Scope | None) -> tuple[str, ...]:
    return () if scope is None else (Reason.SENDER_HELD,)


def has_fallback(intent: OutboundIntentSubmitted) -> bool:
    """A free-form intent naming a template for policy to decide when the window is closed."""
    return intent.fallback_template is not None and not intent.is_template


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
