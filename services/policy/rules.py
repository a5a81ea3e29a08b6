"""The decision: a pure function of (intent, window, now, configuration) -> verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.policy.windows import WindowState
from shared.events.decisions import Outcome, WindowSnapshot
from shared.events.intents import OutboundIntentSubmitted

WINDOW_CLOSED = "WINDOW_CLOSED"
EXPIRED = "INTENT_EXPIRED"
TEMPLATE_UNKNOWN = "TEMPLATE_UNKNOWN"


@dataclass(frozen=True)
class PolicyConfig:
    window_safety_margin: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reasons: list[str] = field(default_factory=list)
    detail: str = ""
    window: WindowSnapshot | None = None
    pricing: str | None = None
    valid_until: datetime | None = None


def snapshot(window: WindowState | None, now: datetime) -> WindowSnapshot:
    if window is None:
        return WindowSnapshot()
    return WindowSnapshot(
        last_customer_message_at=window.last_customer_message_at,
        expires_at=window.expires_at,
        is_open=window.is_open(now),
    )


def decide(
    intent: OutboundIntentSubmitted, window: WindowState | None, now: datetime, config: PolicyConfig
) -> Verdict:
    snap = snapshot(window, now)
    if intent.not_after is not None and now >= intent.not_after:
        return Verdict(
            "rejected", [EXPIRED], f"not_after {intent.not_after.isoformat()} passed", snap
        )
    if intent.is_template:
        return Verdict(
            "rejected",
            [TEMPLATE_UNKNOWN],
            "no approved template state is known for this template",
            snap,
        )
    return _free_form(intent, snap, now, config)


def _free_form(
    intent: OutboundIntentSubmitted, snap: WindowSnapshot, now: datetime, config: PolicyConfig
) -> Verdict:
    usable_until = snap.expires_at - config.window_safety_margin if snap.expires_at else None
    if usable_until is None or now >= usable_until:
        return Verdict(
            "rejected",
            [WINDOW_CLOSED],
            f"{_closed_detail(snap, now)}; outside it only approved templates may be sent",
            snap,
        )
    valid_until = min(usable_until, intent.not_after) if intent.not_after else usable_until
    return Verdict(
        "approved",
        [],
        "inside the customer service window",
        snap,
        pricing="free_service",
        valid_until=valid_until,
    )


def _closed_detail(snap: WindowSnapshot, now: datetime) -> str:
    if snap.expires_at is None:
        return "no customer message opened a 24-hour window"
    if now >= snap.expires_at:
        return f"the customer service window closed at {snap.expires_at.isoformat()}"
    return (
        f"the customer service window closes at {snap.expires_at.isoformat()}, "
        "inside the safety margin kept before its end"
    )
