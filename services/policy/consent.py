"""Consent per customer and business, as a business would defend it in an audit: pure rules over
the facts every source reveals (docs/contract.md, "Consent", says the same in prose).

Two parties speak. The business records opt-ins and opt-outs per category (its consent events,
`wagate consent import`); the latest of its words about a category wins. The customer stops
messages: a STOP-style keyword (every business-initiated message), an opt-out quick-reply
(its configured category), Meta's `user_preferences` stop or a 131050 refusal (marketing). A
customer's stop outranks every business opt-in, earlier or later, until the customer lifts it:
START lifts the stops made in the chat, a `user_preferences` resume lifts marketing stops. A
lift never creates an opt-in, and nothing a customer types ever does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import AwareDatetime, model_validator

from shared.events.envelope import Model
from shared.events.reasons import Reason
from shared.events.webhooks import InboundMessageReceived

MARKETING, UTILITY, AUTHENTICATION, ALL = "marketing", "utility", "authentication", "all"
CATEGORIES = (MARKETING, UTILITY, AUTHENTICATION)
CHAT, META = "chat", "meta"  # where a customer's stop was made, hence what lifts it
Side = Literal["business", "customer"]
BUSINESS: Final = "business"
CUSTOMER: Final = "customer"

# General stop keywords (every business-initiated message) and the words that lift a stop.
DEFAULT_STOP_WORDS = frozenset(
    {"stop", "unsubscribe", "parar", "alto", "baja", "arret", "arrêt", "stopp", "cancelar"}
)
DEFAULT_START_WORDS = frozenset({"start", "subscribe", "unstop", "iniciar", "reprendre"})
# Opt-out quick replies: a button's payload or label (or the same words typed) -> a category.
DEFAULT_OPT_OUT_REPLIES: Mapping[str, str] = {
    "stop promotions": MARKETING,
    "stop_promotions": MARKETING,
    "unsubscribe from promos": MARKETING,
    "stop promos": MARKETING,
    "stop marketing": MARKETING,
}


@dataclass(frozen=True)
class ConsentRules:
    """What the business configured: its keywords and replies, which template categories need
    a recorded opt-in, and whether consent is kept per WABA or per business portfolio."""

    stop_words: frozenset[str] = DEFAULT_STOP_WORDS
    start_words: frozenset[str] = DEFAULT_START_WORDS
    opt_out_replies: Mapping[str, str] = field(default_factory=lambda: DEFAULT_OPT_OUT_REPLIES)
    opt_in_required: frozenset[str] = frozenset(CATEGORIES)
    scope: Literal["waba", "portfolio"] = "waba"
    portfolio_ids: Mapping[str, str] = field(default_factory=dict)  # WABA id -> portfolio id
    default_portfolio_id: str = ""

    def scope_of(self, waba_id: str) -> str:
        """The key consent is kept under for the business that owns `waba_id`."""
        if self.scope == "portfolio":
            return f"portfolio:{self.portfolio_ids.get(waba_id, self.default_portfolio_id)}"
        return f"waba:{waba_id}"


class Opinion(Model):
    """One fact: an opt-in (or lift, for the customer) or an opt-out (a stop), when, and how
    it is known (`source`), with what shows it (`evidence`: a message, an event, an intent)."""

    opted_in: bool
    at: AwareDatetime
    source: str
    evidence: str = ""

    def replaces(self, known: Opinion | None) -> bool:
        """Later wins; at the same instant an opt-out wins over an opt-in."""
        if known is None or self.at > known.at:
            return True
        return self.at == known.at and known.opted_in and not self.opted_in

    def describe(self) -> str:
        shown = f"{self.source} at {self.at.isoformat()}"
        return f"{shown}, {self.evidence}" if self.evidence else shown


Change = tuple[Side, str, Opinion]  # (who spoke, the key it is kept under, the fact)


class ConsentState(Model):
    """The facts about one customer and one business. `business` is keyed by category;
    `customer` by `<chat|meta>:<category>` (where the stop was made decides what lifts it)."""

    business: dict[str, Opinion] = {}
    customer: dict[str, Opinion] = {}
    scope: str = ""  # shown in details; never stored

    @model_validator(mode="before")
    @classmethod
    def _earlier_shape(cls, data: Any) -> Any:
        """Values stored before consent was kept per business: `marketing` and `everything`
        opinions, the latest fact whatever its source."""
        if not isinstance(data, dict) or not ({"marketing", "everything"} & data.keys()):
            return data
        data = dict(data)
        business = dict(data.get("business") or {})
        customer = dict(data.get("customer") or {})
        for name, category in (("marketing", MARKETING), ("everything", ALL)):
            raw = data.pop(name, None)
            if raw is None:
                continue
            opinion = raw if isinstance(raw, Opinion) else Opinion.model_validate(raw)
            for side, key, fact in _earlier_fact(category, opinion):
                (business if side == BUSINESS else customer)[key] = fact
        return {**data, "business": business, "customer": customer}

    def stored(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"scope"})


def _earlier_fact(category: str, opinion: Opinion) -> list[Change]:
    """An opinion of the earlier shape, read with today's rules: a keyword was a customer's
    stop or START, `user_preferences` Meta's, 131050 a marketing stop; anything else the
    business's word."""
    source = opinion.source
    if source == "keyword":
        return stop_all(opinion) if not opinion.opted_in else start(opinion)
    if source == "user_preferences":
        return preference(MARKETING, opinion.opted_in, opinion)
    if source.startswith("send_error:"):
        return [] if opinion.opted_in else [(CUSTOMER, f"{META}:{MARKETING}", opinion)]
    return [(BUSINESS, category, opinion)]


def category(text: str | None) -> str | None:
    """A category as sources spell it (`MARKETING`, `marketing_messages`, `all`), or None."""
    word = (text or "").strip().lower()
    if word.startswith(MARKETING):
        return MARKETING
    return word if word in (UTILITY, AUTHENTICATION, ALL) else None


class UnknownCategory(ValueError):
    """An opt-in to a category policy does not know: it cannot grant anything."""


def business_word(category_text: str, opinion: Opinion) -> list[Change]:
    """The business's opt-in or opt-out; an opt-out of an unknown category counts as `all`."""
    known = category(category_text)
    if known is None and opinion.opted_in:
        raise UnknownCategory(
            f"an opt-in to {category_text!r}: the categories are marketing, utility, "
            "authentication and all"
        )
    return [(BUSINESS, known or ALL, opinion)]


def meta_stop(category_text: str, opinion: Opinion) -> list[Change]:
    """Meta refused a send because the customer stopped that category (131050: marketing)."""
    if opinion.opted_in:
        return []
    return [(CUSTOMER, f"{META}:{category(category_text) or ALL}", opinion)]


def preference(category_text: str, resumed: bool, opinion: Opinion) -> list[Change]:
    """`user_preferences` stop or resume. A resume of marketing also lifts a marketing
    quick-reply stop: the customer asked for marketing from this business again."""
    kind = category(category_text) or ALL
    fact = opinion.model_copy(update={"opted_in": resumed})
    changes: list[Change] = [(CUSTOMER, f"{META}:{kind}", fact)]
    if resumed and kind == MARKETING:
        changes.append((CUSTOMER, f"{CHAT}:{MARKETING}", fact))
    return changes


def preference_value(value: str) -> bool | None:
    """user_preferences `value`: stop -> False, resume -> True, anything else -> None."""
    return {"stop": False, "resume": True}.get(value.strip().lower())


def stop_all(opinion: Opinion) -> list[Change]:
    return [(CUSTOMER, f"{CHAT}:{ALL}", opinion.model_copy(update={"opted_in": False}))]


def start(opinion: Opinion) -> list[Change]:
    """START lifts every stop the customer made in the chat; Meta's stay until a resume."""
    lift = opinion.model_copy(update={"opted_in": True})
    return [(CUSTOMER, f"{CHAT}:{kind}", lift) for kind in (ALL, *CATEGORIES)]


def normalize_word(text: str) -> str:
    return " ".join(text.split()).strip(".!¡ ").casefold()


def reply_words(message: InboundMessageReceived) -> tuple[str, list[str]]:
    """How a customer message can speak about consent (`keyword`, `quick reply`) and its
    words: a text's body; a template button's payload and label; an interactive reply's id
    and title."""
    content = message.content
    if message.message_type == "text":
        return "keyword", _strings(message.text, content.get("body"))
    if message.message_type == "button":
        return "quick reply", _strings(content.get("payload"), content.get("text"))
    if message.message_type == "interactive":
        answer = content.get("button_reply") or content.get("list_reply")
        if isinstance(answer, dict):
            return "quick reply", _strings(answer.get("id"), answer.get("title"))
    return "", []


def _strings(*values: object) -> list[str]:
    return [v for v in values if isinstance(v, str) and v]


def reply(words: Iterable[str], rules: ConsentRules, opinion: Opinion) -> list[Change]:
    """What a customer's reply says, from its text, or a button's payload and label: a stop
    (the widest one named, when several are), else START, else nothing. The fact's source
    says how and with which word (`keyword 'stop'`)."""
    said = sorted({normalize_word(w) for w in words} - {""})
    stop_words = [w for w in said if w in rules.stop_words]
    replies = [
        (w, category(rules.opt_out_replies[w]) or ALL) for w in said if w in rules.opt_out_replies
    ]
    if stop_words or any(kind == ALL for _, kind in replies):
        word = stop_words[0] if stop_words else next(w for w, k in replies if k == ALL)
        return stop_all(_said(opinion, word, opted_in=False))
    if replies:
        return [
            (CUSTOMER, f"{CHAT}:{kind}", _said(opinion, word, opted_in=False))
            for word, kind in replies
        ]
    starts = [w for w in said if w in rules.start_words]
    return start(_said(opinion, starts[0], opted_in=True)) if starts else []


def _said(opinion: Opinion, word: str, *, opted_in: bool) -> Opinion:
    return opinion.model_copy(update={"opted_in": opted_in, "source": f"{opinion.source} {word!r}"})


def record(state: ConsentState | None, changes: Iterable[Change]) -> ConsentState | None:
    """The state after the changes; None when every one is older than what is known."""
    current = state or ConsentState()
    sides = {BUSINESS: dict(current.business), CUSTOMER: dict(current.customer)}
    changed = False
    for side, key, fact in changes:
        if fact.replaces(sides[side].get(key)):
            sides[side][key] = fact
            changed = True
    if not changed:
        return None
    return current.model_copy(update={"business": sides[BUSINESS], "customer": sides[CUSTOMER]})


def merge(states: Iterable[ConsentState], scope: str = "") -> ConsentState:
    """One view of several records of the same customer and business (kept apart by the
    partition that wrote them): per key, the fact that `replaces` the others."""
    business: dict[str, Opinion] = {}
    customer: dict[str, Opinion] = {}
    for state in states:
        for kept, facts in ((business, state.business), (customer, state.customer)):
            for key, fact in facts.items():
                if fact.replaces(kept.get(key)):
                    kept[key] = fact
    return ConsentState(scope=scope, business=business, customer=customer)


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    detail: str


def refusal(state: ConsentState | None, kind: str, *, needs_opt_in: bool) -> Refusal | None:
    """Why a message of category `kind` may not go to this customer, or None. `needs_opt_in`:
    a business-initiated template of a category the business requires an opt-in for."""
    current = state or ConsentState()
    kind = category(kind) or ALL
    stop = _customer_stop(current, kind)
    if stop is not None:
        key, fact = stop
        channel, _, stopped = key.partition(":")
        lift = "START" if channel == CHAT else "a resume in WhatsApp (user_preferences)"
        return Refusal(
            _opted_out(stopped),
            f"the customer stopped {_what(stopped)} ({fact.describe()}); only the customer "
            f"lifts it, with {lift}",
        )
    word = _business_word(current, kind)
    if word is not None and not word[1].opted_in:
        return Refusal(
            _opted_out(word[0]),
            f"the business recorded an opt-out of {_what(word[0])} ({word[1].describe()})",
        )
    if needs_opt_in and word is None:
        whose = f" with {current.scope}" if current.scope else ""
        return Refusal(
            Reason.NO_OPT_IN,
            f"no opt-in to {kind} messages (or to all) is recorded for this customer{whose}",
        )
    return None


def _customer_stop(state: ConsentState, kind: str) -> tuple[str, Opinion] | None:
    """The latest of the customer's stops in force that covers `kind` (every stop covers a
    category policy does not know)."""
    covers = {ALL, kind}
    in_force = [
        (key, fact)
        for key, fact in state.customer.items()
        if not fact.opted_in and (kind == ALL or key.partition(":")[2] in covers)
    ]
    return max(in_force, key=lambda item: item[1].at) if in_force else None


def _business_word(state: ConsentState, kind: str) -> tuple[str, Opinion] | None:
    """The business's latest word covering `kind`: about `kind` itself or about all."""
    best: tuple[str, Opinion] | None = None
    for key in (kind, ALL):
        fact = state.business.get(key)
        if fact is not None and fact.replaces(best[1] if best else None):
            best = (key, fact)
    return best


def _opted_out(kind: str) -> Reason:
    return Reason.MARKETING_OPTED_OUT if kind == MARKETING else Reason.OPTED_OUT


def _what(kind: str) -> str:
    return "every business-initiated message" if kind == ALL else f"{kind} messages"


def stance(state: ConsentState | None, rules: ConsentRules) -> dict[str, dict[str, Any]]:
    """Per template category, whether a business-initiated template may go now, and why not."""
    out: dict[str, dict[str, Any]] = {}
    for kind in CATEGORIES:
        refused = refusal(state, kind, needs_opt_in=kind in rules.opt_in_required)
        out[kind] = {
            "allowed": refused is None,
            "reason": refused.reason.value if refused else None,
            "detail": refused.detail if refused else "",
        }
    return out
