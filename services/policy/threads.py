"""Who holds a customer's thread under Conversation Routing (rules §9.6): pure transitions of
the `threads` table and the rule an intent meets.

One handler answers a conversation at a time. wagate's app holds it after a `control_passed`
notification, a customer message on `messages`, or its own send that took control; another
handler (Meta's Business Agent) holds it after a `control_taken`, or when the customer's
messages arrive on `standby`. The latest signal wins, whatever order they arrive in. A release
sends no notification; a hold that no signal renewed for `idle_after` (reported: idle after
24 h without a customer message) no longer stops an intent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import AwareDatetime

from shared.events.envelope import Model
from shared.events.intents import OutboundIntentSubmitted
from shared.events.reasons import Reason
from shared.events.signals import Holder

IDLE_AFTER = timedelta(hours=24)


class ThreadState(Model):
    """What policy keeps per (business number, customer): who holds the thread, since when,
    and what said so."""

    held_by: Holder
    since: AwareDatetime
    signal: str


@dataclass(frozen=True)
class ThreadRules:
    idle_after: timedelta = IDLE_AFTER  # reported (Kapso), so configurable
    templates_too: bool = True  # whether a template send to a held thread is stopped (§9.7 q5)


def observe(
    state: ThreadState | None, held_by: Holder, at: datetime, signal: str
) -> ThreadState | None:
    """The thread after a signal at `at`; None when it changes nothing (an older signal, or
    the same holder said again earlier)."""
    if state is not None and at < state.since:
        return None
    if state is not None and state.held_by == held_by and at == state.since:
        return None
    return ThreadState(held_by=held_by, since=at, signal=signal)


def held_by_agent(state: ThreadState | None, now: datetime, rules: ThreadRules) -> bool:
    """Another handler holds the thread at `now` and no idle time released it."""
    return state is not None and state.held_by == "agent" and now < state.since + rules.idle_after


@dataclass(frozen=True)
class ThreadCheck:
    refused: bool
    takes_over: bool  # the send takes the thread from the other handler
    detail: str = ""


def check(
    intent: OutboundIntentSubmitted, state: ThreadState | None, now: datetime, rules: ThreadRules
) -> ThreadCheck:
    """Whether `intent` may go to a thread another handler holds: only when it asks to take
    control (Meta: a service message sent by the passive app makes it the active handler)."""
    if not held_by_agent(state, now, rules):
        return ThreadCheck(refused=False, takes_over=False)
    if intent.is_template and not rules.templates_too:
        return ThreadCheck(refused=False, takes_over=False)
    assert state is not None
    held = f"another handler (Meta's agent) holds this thread since {state.since.isoformat()}"
    if not intent.take_control:
        return ThreadCheck(True, False, f"{held}; set take_control to take it over")
    how = (
        "this service message takes it over as it is sent (Meta: a service message from the "
        "passive app makes it the active handler); no thread_control call is made"
    )
    if intent.is_template:
        how = (
            "take_control asked; whether a template send takes the thread over is not "
            "documented by Meta, and no thread_control call is made"
        )
    return ThreadCheck(refused=False, takes_over=True, detail=f"{held}: {how}")


REASON = Reason.THREAD_HELD_BY_AGENT
