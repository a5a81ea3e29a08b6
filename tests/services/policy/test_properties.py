"""Properties over many generated cases: a free-form intent is never approved without an open
window, and a template never goes to a customer whose stop is in force, or without a recorded
opt-in where one is required, whatever the history of consent facts and the order they came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.policy import consent
from services.policy.caps import MarketingLog
from services.policy.consent import ConsentRules, ConsentState, Opinion
from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.windows import WindowState
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.template_states import ParameterSpec, TemplateStateChanged

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ages = st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
times = st.integers(min_value=-600, max_value=0).map(lambda m: NOW + timedelta(minutes=m))
facts = st.builds(Opinion, opted_in=st.booleans(), at=times, source=st.just("p"))
CATEGORY_WORDS = ["marketing", "utility", "authentication", "all", "promotions"]
WORDS = ["STOP", "start", "Stop promotions", "stop_promotions", "hello", "unsubscribe"]


@st.composite
def histories(draw: st.DrawFn) -> list[list[consent.Change]]:
    """Facts of every source, in any order."""
    steps = st.one_of(
        st.builds(
            lambda c, f: (
                consent.business_word(c, f.model_copy(update={"opted_in": False}))
                if c == "promotions"
                else consent.business_word(c, f)
            ),
            st.sampled_from(CATEGORY_WORDS),
            facts,
        ),
        st.builds(
            lambda w, f: consent.reply([w], ConsentRules(), f), st.sampled_from(WORDS), facts
        ),
        st.builds(
            lambda c, f: consent.preference(c, f.opted_in, f),
            st.sampled_from(["marketing_messages", "calls"]),
            facts,
        ),
        st.builds(lambda f: consent.meta_stop("marketing", f), facts),
    )
    return draw(st.lists(steps, max_size=8))


def _state(history: list[list[consent.Change]]) -> ConsentState:
    state: ConsentState | None = None
    for changes in history:
        state = consent.record(state, changes) or state
    return state or ConsentState()


@given(
    age=ages,
    margin=st.integers(min_value=0, max_value=3600),
    category=st.sampled_from([None, "service", "utility", "marketing"]),
    history=histories(),
    sent=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=8)), max_size=4),
)
def test_free_form_is_never_approved_outside_an_open_window(
    age: timedelta | None,
    margin: int,
    category: str | None,
    history: list[list[consent.Change]],
    sent: list[timedelta],
) -> None:
    window = None if age is None else WindowState(last_customer_message_at=NOW - age)
    intent = OutboundIntentSubmitted(
        intent_id="p",
        phone_number_id="1",
        to="2",
        content=TextContent(body="hello"),
        category=category,
    )  # type: ignore[arg-type]
    facts = Facts(
        window=window,
        consent=_state(history),
        marketing=MarketingLog(sent_at=tuple(NOW - s for s in sent)),
    )
    verdict = decide(
        intent, facts, NOW, PolicyConfig(window_safety_margin=timedelta(seconds=margin))
    )
    if verdict.outcome == "approved":
        assert window is not None and window.expires_at is not None
        assert window.expires_at - timedelta(seconds=margin) > NOW
        assert verdict.valid_until is not None and verdict.valid_until <= window.expires_at


def _stopped(history: list[list[consent.Change]], kind: str) -> bool:
    """Is a stop of the customer's in force for `kind`: replayed fact by fact, per key, the
    latest fact (an opt-out on a tie) of every key covering `kind` that is a stop."""
    latest: dict[str, Opinion] = {}
    for changes in history:
        for side, key, fact in changes:
            if side == "customer" and fact.replaces(latest.get(key)):
                latest[key] = fact
    covering = {f"{c}:{k}" for c in ("chat", "meta") for k in ("all", kind)}
    return any(not f.opted_in for k, f in latest.items() if k in covering)


@given(
    history=histories(),
    category=st.sampled_from(["MARKETING", "UTILITY", "AUTHENTICATION"]),
    window_open=st.booleans(),
    required=st.sets(st.sampled_from(list(consent.CATEGORIES))),
    order=st.randoms(use_true_random=False),
)
def test_a_template_never_goes_against_a_stop_or_without_a_required_opt_in(
    history: list[list[consent.Change]],
    category: str,
    window_open: bool,
    required: set[str],
    order: object,
) -> None:
    arrived = list(history)
    order.shuffle(arrived)  # type: ignore[attr-defined]
    state = TemplateStateChanged(
        waba_id="w",
        name="t",
        language="en_US",
        category=category,
        status="APPROVED",
        parameters=ParameterSpec(),
    )
    config = PolicyConfig(
        default_waba_id="w", consent=ConsentRules(opt_in_required=frozenset(required))
    )
    window = WindowState(last_customer_message_at=NOW - timedelta(hours=1)) if window_open else None
    intent = OutboundIntentSubmitted(
        intent_id="p",
        phone_number_id="1",
        to="2",
        content=TemplateContent(name="t", language="en_US", components=[]),
    )
    facts = Facts(window=window, consent=_state(arrived), templates={state.key: state}.get)
    verdict = decide(intent, facts, NOW, config)
    kind = category.lower()
    if _stopped(history, kind):
        assert verdict.outcome == "rejected"
    if verdict.outcome == "approved" and kind in required:
        seen = _state(history)
        words = [w for w in (seen.business.get(kind), seen.business.get("all")) if w is not None]
        assert words, "approved without any recorded word of the business"
        latest = max(words, key=lambda w: (w.at, not w.opted_in))  # a tie: the opt-out
        assert latest.opted_in
