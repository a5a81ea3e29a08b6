"""Properties over many generated cases: a free-form intent is never approved without an
open window, whatever the other state says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.policy.caps import MarketingLog
from services.policy.consent import ConsentState, Opinion
from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.windows import WindowState
from shared.events.intents import OutboundIntentSubmitted, TextContent

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ages = st.one_of(st.none(), st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)))
opinions = st.one_of(
    st.none(), st.builds(Opinion, opted_in=st.booleans(), at=st.just(NOW), source=st.just("p"))
)


@given(
    age=ages,
    margin=st.integers(min_value=0, max_value=3600),
    category=st.sampled_from([None, "service", "utility", "marketing"]),
    marketing=opinions,
    everything=opinions,
    sent=st.lists(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=8)), max_size=4),
)
def test_free_form_is_never_approved_outside_an_open_window(
    age: timedelta | None,
    margin: int,
    category: str | None,
    marketing: Opinion | None,
    everything: Opinion | None,
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
        consent=ConsentState(marketing=marketing, everything=everything),
        marketing=MarketingLog(sent_at=tuple(NOW - s for s in sent)),
    )
    verdict = decide(
        intent, facts, NOW, PolicyConfig(window_safety_margin=timedelta(seconds=margin))
    )
    if verdict.outcome == "approved":
        assert window is not None and window.expires_at is not None
        assert window.expires_at - timedelta(seconds=margin) > NOW
        assert verdict.valid_until is not None and verdict.valid_until <= window.expires_at
