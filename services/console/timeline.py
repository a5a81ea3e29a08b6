"""Pure telling of an intent's story: every reason in words, each step of its timeline in
order, and the state it ended in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.events.delivery import TERMINAL_STATES
from shared.meta_errors import CODES, PERMISSION_RANGE

Row = Mapping[str, Any]

# Keyed by the code as events carry it: every `Reason` has its sentence (a test holds it), and
# codes not (or no longer) in the enum keep theirs for the events retention still holds.
REASON_WORDS: dict[str, str] = {
    "WINDOW_CLOSED": "The customer service window was closed (no message from the customer "
    "in the last 24 hours, less the safety margin), and outside it only an approved template "
    "may be sent.",
    "EXPIRED": "The intent's not_after time had passed when policy decided, so it was not sent.",
    "FALLBACK_TEMPLATE": "The window was closed, so the intent's fallback template was "
    "approved or sent instead of its free-form message.",
    "MESSAGE_UNKNOWN": "The read receipt named no message policy saw the customer send to "
    "this number (among their latest 100), so it was not sent.",
    "OPTED_OUT": "The customer opted out of this category of messages from this business.",
    "MARKETING_NO_OPT_IN": "Marketing needs a recorded opt-in from the customer, and none "
    "is on record.",
    "NO_OPT_IN": "A template of this category needs the customer's recorded opt-in, and none "
    "is on record for this business.",
    "INTERNAL_ERROR": "Policy could not decide this intent (a fault of its own); the intent "
    "is on the dead-letter topic for an operator to look at and redrive.",
    "MARKETING_OPTED_OUT": "The customer stopped marketing messages (a consent event, "
    "Meta's user_preferences, a STOP-style keyword or a 131050 refusal).",
    "MARKETING_FREQUENCY_CAP": "The customer already got as many marketing messages as "
    "the cap allows in a rolling day or week.",
    "QUIET_HOURS": "It was quiet hours for the customer: the intent waits and is decided "
    "again when they end.",
    "MESSAGING_LIMIT": "The business reached its messaging limit (unique customers reached "
    "outside a window in a rolling 24 hours).",
    "INVALID_RECIPIENT": "The intent's `to` is no phone number that can exist (or holds a "
    "BSUID, which goes in `recipient`), so nothing was sent.",
    "BSUID_AUTHENTICATION": "Authentication templates need the customer's phone, and this "
    "customer is known only by their business-scoped user id (Meta refuses it: 131062).",
    "THREAD_HELD_BY_AGENT": "Meta's Business Agent (or another handler) holds this customer's "
    "conversation, and the intent did not ask to take it over (`take_control`).",
    "TEMPLATE_UNKNOWN": "No template of that name exists in the requested language or in "
    "any language of its fallback chain.",
    "TEMPLATE_PAUSED": "Meta paused the template for its quality; it cannot be sent until "
    "it is unpaused.",
    "TEMPLATE_NOT_APPROVED": "The template is not approved in the requested language "
    "(pending, rejected, disabled or deleted).",
    "TEMPLATE_PARAMETERS_MISMATCH": "The intent's parameters do not fit the template "
    "(their count or names, the header's media, or the buttons that need a value).",
    "NOT_AFTER_PASSED": "Dispatch could not send before the intent's not_after time, so it "
    "gave up on it.",
    "RETRIES_EXHAUSTED": "Every retry of the send failed, so dispatch gave up on it.",
    "NOT_SENT": "The Cloud API's answer to the send was never known and no status "
    "confirmed it, so the message counts as not sent.",
    "OUTCOME_UNCONFIRMED": "No answer and no status confirmed the send in time; it may have "
    "reached the customer, so it is not sent again unless someone asks for a resend.",
    "SEALED_PARAMETERS_UNREADABLE": "The sealed sensitive parameters could not be opened "
    "with dispatch's keys, so the message could not be built.",
    "APPROVAL_EXPIRED": "Policy's approval ran out (its valid_until passed) before the send, "
    "so the intent went back to policy to be decided again with the state of then.",
    "REDECISIONS_EXHAUSTED": "The intent was decided again as often as dispatch allows and "
    "never sent in time, so it ended.",
    "US_MARKETING_PAUSED": "A marketing template to a US number: Meta has delivered none "
    "since April 2025, so it was refused before sending.",
    "CUSTOMER_MARKETING_HELD": "Meta capped this customer's marketing (131049): their "
    "marketing waits a day and is tried again while the intent's time allows.",
    "SENDER_HELD": "Meta stopped sending from the number, account or portfolio (spam rate, "
    "limit or policy block): the intent waits until the hold ends or Meta lifts it.",
    "PACED": "Meta holds the paced template's message while it gathers quality feedback; it "
    "is released or dropped (132015).",
    "MARKETING_HOLDOUT": "The customer is in Meta's marketing holdout experiment (130472): no "
    "marketing template reaches them outside an open window; not billed.",
    "MEDIA_FETCH_FAILED": "The customer's file could not be fetched from Meta within the tries "
    "or the 7 days Meta keeps it.",
    "MEDIA_REFUSED": "The customer's file was not kept: its bytes are not the type Meta "
    "reported, or it is too large.",
}

STATE_WORDS: dict[str, str] = {
    "rejected": "Rejected: it was never sent.",
    "held": "Held: its business number cannot send now; it is sent once the number can.",
    "accepted": "Accepted by the Cloud API, which gave it a wamid.",
    "paced": "Paced: Meta holds the template's message to assess its quality.",
    "sent": "Sent: Meta reports it left for the customer's phone.",
    "delivered": "Delivered to the customer's phone.",
    "read": "Read by the customer.",
    "played": "Played by the customer (a voice message).",
    "failed": "Failed: Meta could not deliver it.",
    "expired": "Expired: not sent before its time ran out.",
    "unknown": "Unknown: the Cloud API's answer was lost; wagate is finding out.",
}
# where a state sits in an intent's life, to order updates of one instant
STATE_ORDER = ("rejected", "held", "accepted", "paced", "sent", "delivered", "read", "played",
               "failed", "expired", "unknown")  # fmt: skip


def state_words(state: str) -> str:
    return STATE_WORDS.get(state, f"{state.capitalize()}.")


def reason_words(code: str) -> str:
    """One sentence saying what a reason code (wagate's, or Meta's error code) means."""
    if code in REASON_WORDS:
        return REASON_WORDS[code]
    if code.isdigit():
        number = int(code)
        meaning = CODES.get(number)
        if meaning and meaning.title:
            return f"Meta answered error {code}: {meaning.title}."
        if number in PERMISSION_RANGE:
            return f"Meta answered error {code}: the app lacks a permission."
        return f"Meta answered error {code}."
    return f"Reason {code} (not known to this console)."


@dataclass(frozen=True)
class Explained:
    code: str
    words: str


def explain(codes: Sequence[str]) -> list[Explained]:
    return [Explained(c, reason_words(c)) for c in codes]


@dataclass(frozen=True)
class Entry:
    """One step of an intent's timeline."""

    at: datetime
    kind: str  # submitted | decision | delivery | dead_letter
    title: str
    reasons: list[Explained] = field(default_factory=list)
    row: Row = field(default_factory=dict)


@dataclass(frozen=True)
class FinalState:
    state: str
    at: datetime | None
    terminal: bool
    words: str


def _delivery_key(row: Row) -> tuple[datetime, int]:
    return row["occurred_at"], STATE_ORDER.index(row["state"]) if row["state"] in STATE_ORDER else 0


def entries(
    intents: Sequence[Row], decisions: Sequence[Row], deliveries: Sequence[Row],
    dead_letters: Sequence[Row] = (),
) -> list[Entry]:  # fmt: skip
    """Every step, in the order it happened."""
    out: list[Entry] = []
    for row in intents[:1]:
        out.append(Entry(row["occurred_at"], "submitted", "Submitted by the business", row=row))
    for row in decisions:
        title = f"Policy {row['outcome']} it"
        out.append(Entry(row["occurred_at"], "decision", title, explain(row["reasons"]), row))
    for row in sorted(deliveries, key=_delivery_key):
        out.append(
            Entry(
                row["occurred_at"],
                "delivery",
                state_words(row["state"]),
                explain(row["reasons"]),
                row,
            )
        )
    for row in dead_letters:
        out.append(Entry(row["occurred_at"], "dead_letter", "Dead-lettered", row=row))
    order = {"submitted": 0, "decision": 1, "delivery": 2, "dead_letter": 3}
    return sorted(out, key=lambda e: (e.at, order[e.kind]))


def final_state(decisions: Sequence[Row], deliveries: Sequence[Row]) -> FinalState:
    """Where the intent stands: its last terminal update, else its latest update, else what
    policy decided, else that it waits for policy."""
    ordered = sorted(deliveries, key=_delivery_key)
    terminal = [d for d in ordered if d["state"] in TERMINAL_STATES]
    last = terminal[-1] if terminal else (ordered[-1] if ordered else None)
    if last is not None:
        state = str(last["state"])
        return FinalState(state, last["occurred_at"], state in TERMINAL_STATES, state_words(state))
    if decisions:
        latest = max(decisions, key=lambda d: d["occurred_at"])
        outcome = latest["outcome"]
        if outcome == "deferred":
            until = latest.get("valid_until")
            words = f"Deferred by policy until {until.isoformat() if until else 'later'}."
        elif outcome == "approved":
            words = "Approved by policy; dispatch has not reported on it yet."
        else:
            words = "Rejected by policy."
        return FinalState(outcome, latest["occurred_at"], outcome == "rejected", words)
    return FinalState("submitted", None, False, "Submitted; policy has not decided yet.")
