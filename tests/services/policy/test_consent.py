"""Consent, table by table: what each source says, how facts combine, and what a history of
facts allows for each category. Each history is a list of facts in the order they arrive."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.policy import consent
from services.policy.consent import (
    Change,
    ConsentRules,
    ConsentState,
    Opinion,
    UnknownCategory,
)
from shared.events.webhooks import InboundMessageReceived

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
RULES = ConsentRules()


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def fact(minutes: int, source: str = "crm", opted_in: bool = False) -> Opinion:
    return Opinion(opted_in=opted_in, at=at(minutes), source=source, evidence="e")


# What each source says -> the changes it makes. A history is a list of such steps.
Step = Callable[[], list[Change]]


def business(category: str, opted_in: bool, minutes: int) -> Step:
    return lambda: consent.business_word(category, fact(minutes, "crm", opted_in))


def said(text: str, minutes: int, how: str = "keyword") -> Step:
    return lambda: consent.reply([text], RULES, fact(minutes, how))


def prefers(value: str, minutes: int, category: str = "marketing_messages") -> Step:
    resumed = consent.preference_value(value)
    assert resumed is not None
    return lambda: consent.preference(category, resumed, fact(minutes, "user_preferences"))


def refused_by_meta(minutes: int, category: str = "marketing") -> Step:
    return lambda: consent.meta_stop(category, fact(minutes, "send_error:131050"))


def history(*steps: Step) -> ConsentState:
    state: ConsentState | None = None
    for step in steps:
        state = consent.record(state, step()) or state
    return state or ConsentState()


def verdicts(state: ConsentState, needs_opt_in: bool = True) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for kind in consent.CATEGORIES:
        refusal = consent.refusal(state, kind, needs_opt_in=needs_opt_in)
        out[kind] = refusal.reason.value if refusal else None
    return out


OK: dict[str, str | None] = dict.fromkeys(consent.CATEGORIES)
NONE_RECORDED: dict[str, str | None] = dict.fromkeys(consent.CATEGORIES, "NO_OPT_IN")
ALL_STOPPED: dict[str, str | None] = {
    "marketing": "OPTED_OUT",
    "utility": "OPTED_OUT",
    "authentication": "OPTED_OUT",
}


def only(**changes: str | None) -> Callable[[dict[str, str | None]], dict[str, str | None]]:
    return lambda base: {**base, **changes}


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param((), NONE_RECORDED, id="nothing-recorded"),
        pytest.param(
            (business("marketing", True, 0),),
            only(marketing=None)(NONE_RECORDED),
            id="marketing-opt-in-covers-marketing-only",
        ),
        pytest.param((business("all", True, 0),), OK, id="opt-in-to-all-covers-every-category"),
        pytest.param(
            (business("utility", False, 0),),
            only(utility="OPTED_OUT")(NONE_RECORDED),
            id="a-utility-opt-out-is-honoured",
        ),
        pytest.param(
            (business("all", True, 0), business("marketing", False, 5)),
            only(marketing="MARKETING_OPTED_OUT")(OK),
            id="a-later-category-opt-out-narrows-all",
        ),
        pytest.param(
            (business("all", False, 0), business("utility", True, 5)),
            only(utility=None)(ALL_STOPPED),
            id="a-later-category-opt-in-after-opting-out-of-all",
        ),
        pytest.param(
            (business("marketing", True, 5), business("marketing", False, 0)),
            only(marketing=None)(NONE_RECORDED),
            id="an-older-opt-out-arriving-late-changes-nothing",
        ),
        pytest.param(
            (business("marketing", True, 0), business("marketing", False, 0)),
            only(marketing="MARKETING_OPTED_OUT")(NONE_RECORDED),
            id="at-the-same-instant-the-opt-out-wins",
        ),
        pytest.param(
            (business("promotions", False, 0), business("marketing", True, 0)),
            ALL_STOPPED,
            id="an-opt-out-of-an-unknown-category-stops-all",
        ),
        pytest.param(
            (business("all", True, 0), said("STOP", 5)),
            ALL_STOPPED,
            id="stop-keyword-stops-every-category",
        ),
        pytest.param(
            (said("STOP", 0), business("all", True, 5)),
            ALL_STOPPED,
            id="a-later-business-opt-in-never-lifts-the-customers-stop",
        ),
        pytest.param(
            (business("all", True, 0), said("STOP", 5), said("START", 10)),
            OK,
            id="start-lifts-the-stop-and-the-earlier-opt-in-holds-again",
        ),
        pytest.param(
            (said("STOP", 0), said("START", 5)), NONE_RECORDED, id="start-never-creates-an-opt-in"
        ),
        pytest.param(
            (said("start", 0), said("subscribe", 1), said("iniciar", 2)),
            NONE_RECORDED,
            id="chat-words-never-create-consent",
        ),
        pytest.param(
            (business("all", True, 0), said("START", 10), said("STOP", 5)),
            OK,
            id="an-older-stop-arriving-after-start-changes-nothing",
        ),
        pytest.param(
            (business("all", True, 0), said("STOP", 5), said("START", 5)),
            ALL_STOPPED,
            id="stop-and-start-at-the-same-instant-the-stop-wins",
        ),
        pytest.param(
            (business("all", True, 0), said("Stop promotions", 5, "quick reply")),
            only(marketing="MARKETING_OPTED_OUT")(OK),
            id="an-opt-out-quick-reply-stops-marketing",
        ),
        pytest.param(
            (business("all", True, 0), said("Stop promotions", 5), said("start", 9)),
            OK,
            id="start-lifts-a-quick-reply-stop",
        ),
        pytest.param(
            (business("all", True, 0), prefers("stop", 5)),
            only(marketing="MARKETING_OPTED_OUT")(OK),
            id="user-preferences-stop-stops-marketing",
        ),
        pytest.param(
            (prefers("stop", 0), business("marketing", True, 5)),
            only(marketing="MARKETING_OPTED_OUT")(NONE_RECORDED),
            id="user-preferences-stop-outranks-a-later-opt-in",
        ),
        pytest.param(
            (business("all", True, 0), prefers("stop", 5), said("START", 9)),
            only(marketing="MARKETING_OPTED_OUT")(OK),
            id="start-does-not-lift-what-meta-holds",
        ),
        pytest.param(
            (business("all", True, 0), prefers("stop", 5), prefers("resume", 9)),
            OK,
            id="resume-lifts-the-marketing-stop",
        ),
        pytest.param(
            (business("all", True, 0), said("Stop promotions", 5), prefers("resume", 9)),
            OK,
            id="resume-lifts-a-marketing-quick-reply-too",
        ),
        pytest.param(
            (business("all", True, 0), said("STOP", 5), prefers("resume", 9)),
            ALL_STOPPED,
            id="resume-does-not-lift-a-general-stop",
        ),
        pytest.param(
            (business("all", True, 0), refused_by_meta(5)),
            only(marketing="MARKETING_OPTED_OUT")(OK),
            id="a-131050-refusal-stops-marketing",
        ),
        pytest.param(
            (business("all", True, 0), refused_by_meta(5), prefers("resume", 9)),
            OK,
            id="resume-lifts-a-131050-stop",
        ),
        pytest.param(
            (business("all", True, 0), prefers("stop", 5, category="calls")),
            ALL_STOPPED,
            id="a-meta-stop-of-an-unknown-category-stops-all",
        ),
    ],
)
def test_a_history_decides_each_category(
    steps: tuple[Step, ...], expected: dict[str, str | None]
) -> None:
    assert verdicts(history(*steps)) == expected


def test_a_reply_stopping_utility_when_so_configured() -> None:
    rules = ConsentRules(opt_out_replies={"stop_reminders": "utility"})
    state = consent.record(
        history(business("all", True, 0)),
        consent.reply(["STOP_REMINDERS", "Stop reminders"], rules, fact(5, "quick reply")),
    )
    assert state is not None
    assert verdicts(state) == {**OK, "utility": "OPTED_OUT"}


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param((), None, id="no-opt-in-needed"),
        pytest.param((said("STOP", 0),), "OPTED_OUT", id="a-general-stop-still-blocks"),
        pytest.param((prefers("stop", 0),), "MARKETING_OPTED_OUT", id="a-marketing-stop-too"),
        pytest.param((business("marketing", False, 0),), "MARKETING_OPTED_OUT", id="an-opt-out"),
    ],
)
def test_free_form_marketing_needs_no_opt_in_but_honours_stops(
    steps: tuple[Step, ...], expected: str | None
) -> None:
    refusal = consent.refusal(history(*steps), "MARKETING", needs_opt_in=False)
    assert (refusal.reason.value if refusal else None) == expected


def test_a_category_policy_does_not_know_is_blocked_by_any_stop() -> None:
    state = history(business("all", True, 0), said("stop promotions", 5))
    refusal = consent.refusal(state, "SOMETHING_NEW", needs_opt_in=True)
    assert refusal is not None and refusal.reason.value == "MARKETING_OPTED_OUT"
    assert consent.refusal(history(business("all", True, 0)), "X", needs_opt_in=True) is None
    unknown = consent.refusal(history(business("utility", True, 0)), "X", needs_opt_in=True)
    assert unknown is not None and unknown.reason.value == "NO_OPT_IN"


@pytest.mark.parametrize(
    ("steps", "kind", "says"),
    [
        pytest.param(
            (said("STOP", 5),),
            "utility",
            [
                "the customer stopped every business-initiated message",
                "keyword 'stop' at 2026-03-02T10:05:00+00:00",
                "with START",
            ],
            id="a-stop",
        ),
        pytest.param(
            (prefers("stop", 7),),
            "marketing",
            ["user_preferences at 2026-03-02T10:07:00+00:00", "user_preferences)"],
            id="a-meta-stop",
        ),
        pytest.param(
            (business("marketing", False, 3),),
            "marketing",
            ["the business recorded an opt-out of marketing messages (crm at 2026-03-02T10:03"],
            id="an-opt-out",
        ),
        pytest.param((), "authentication", ["no opt-in to authentication"], id="no-opt-in"),
    ],
)
def test_every_refusal_names_the_fact_behind_it(
    steps: tuple[Step, ...], kind: str, says: list[str]
) -> None:
    refusal = consent.refusal(history(*steps), kind, needs_opt_in=True)
    assert refusal is not None
    for part in says:
        assert part in refusal.detail
    assert "e" in refusal.detail  # the evidence


def test_no_opt_in_names_the_business() -> None:
    refusal = consent.refusal(ConsentState(scope="waba:42"), "utility", needs_opt_in=True)
    assert refusal is not None and "with waba:42" in refusal.detail


# the sources, one by one


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("marketing", "marketing"),
        ("MARKETING", "marketing"),
        ("marketing_messages", "marketing"),
        (" Utility ", "utility"),
        ("authentication", "authentication"),
        ("all", "all"),
        ("service", None),
        ("", None),
        (None, None),
    ],
)
def test_categories_as_sources_spell_them(text: str | None, category: str | None) -> None:
    assert consent.category(text) == category


def test_an_opt_in_to_an_unknown_category_is_refused() -> None:
    with pytest.raises(UnknownCategory, match="'service'"):
        consent.business_word("service", fact(0, opted_in=True))
    assert consent.business_word("service", fact(0)) == [("business", "all", fact(0))]


@pytest.mark.parametrize(
    ("words", "keys", "opted_in", "source"),
    [
        (["STOP"], ["chat:all"], False, "keyword 'stop'"),
        (["  stop. "], ["chat:all"], False, "keyword 'stop'"),
        (["Parar"], ["chat:all"], False, "keyword 'parar'"),
        (["ARRÊT"], ["chat:all"], False, "keyword 'arrêt'"),
        (["Stop Promotions!"], ["chat:marketing"], False, "keyword 'stop promotions'"),
        (["STOP_PROMOTIONS", "Not now"], ["chat:marketing"], False, "keyword 'stop_promotions'"),
        (["stop_promotions", "Stop"], ["chat:all"], False, "keyword 'stop'"),
        (
            ["start"],
            ["chat:all", "chat:marketing", "chat:utility", "chat:authentication"],
            True,
            "keyword 'start'",
        ),
        (["START", "stop"], ["chat:all"], False, "keyword 'stop'"),
        (["please stop sending"], [], None, None),
        (["stopping"], [], None, None),
        ([""], [], None, None),
        ([], [], None, None),
    ],
)
def test_what_a_reply_says(
    words: list[str], keys: list[str], opted_in: bool | None, source: str | None
) -> None:
    changes = consent.reply(words, RULES, fact(0, "keyword"))
    assert [key for _, key, _ in changes] == keys
    assert {side for side, _, _ in changes} <= {"customer"}
    assert {f.opted_in for _, _, f in changes} == ({opted_in} if keys else set())
    assert {f.source for _, _, f in changes} == ({source} if keys else set())


def _message(kind: str, content: dict[str, Any], text: str | None = None) -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id="1",
        wa_id="16505551234",
        message_id="wamid.1",
        timestamp=T0,
        message_type=kind,
        text=text,
        content=content,
    )


@pytest.mark.parametrize(
    ("message", "how", "words"),
    [
        (_message("text", {"body": "STOP"}, "STOP"), "keyword", ["STOP", "STOP"]),
        (
            _message("button", {"payload": "STOP_PROMOTIONS", "text": "Stop promotions"}),
            "quick reply",
            ["STOP_PROMOTIONS", "Stop promotions"],
        ),
        (
            _message(
                "interactive",
                {"type": "button_reply", "button_reply": {"id": "x1", "title": "Stop"}},
            ),
            "quick reply",
            ["x1", "Stop"],
        ),
        (
            _message(
                "interactive",
                {"type": "list_reply", "list_reply": {"id": "unsub", "title": "Unsubscribe"}},
            ),
            "quick reply",
            ["unsub", "Unsubscribe"],
        ),
        (_message("button", {"payload": 7, "text": ["x"]}), "quick reply", []),
        (_message("interactive", {"type": "nfm_reply", "nfm_reply": {"body": "Sent"}}), "", []),
        (_message("image", {"id": "1"}), "", []),
        (_message("reaction", {"emoji": "👍"}), "", []),
    ],
)
def test_the_words_of_each_kind_of_message(
    message: InboundMessageReceived, how: str, words: list[str]
) -> None:
    assert consent.reply_words(message) == (how, words)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("stop", False), ("resume", True), (" STOP ", False), ("pause", None), ("", None)],
)
def test_user_preference_values(value: str, expected: bool | None) -> None:
    assert consent.preference_value(value) is expected


@pytest.mark.parametrize(
    ("category", "resumed", "keys"),
    [
        ("marketing_messages", False, ["meta:marketing"]),
        ("marketing_messages", True, ["meta:marketing", "chat:marketing"]),
        ("calls", False, ["meta:all"]),
        ("calls", True, ["meta:all"]),
    ],
)
def test_user_preferences(category: str, resumed: bool, keys: list[str]) -> None:
    changes = consent.preference(category, resumed, fact(0, "user_preferences"))
    assert [key for _, key, _ in changes] == keys
    assert all(f.opted_in is resumed for _, _, f in changes)


def test_a_meta_refusal_never_opts_in() -> None:
    assert consent.meta_stop("marketing", fact(0, opted_in=True)) == []
    assert [k for _, k, _ in consent.meta_stop("marketing", fact(0))] == ["meta:marketing"]


# combining records


def test_record_keeps_the_latest_and_says_when_nothing_changed() -> None:
    state = consent.record(None, consent.business_word("marketing", fact(5, opted_in=True)))
    assert state is not None
    assert consent.record(state, consent.business_word("marketing", fact(1))) is None
    assert consent.record(state, consent.business_word("marketing", fact(5, opted_in=True))) is None


def test_records_merge_the_same_in_any_order() -> None:
    records = [
        history(business("all", True, 0)),
        history(said("STOP", 5)),
        history(said("START", 9), prefers("stop", 2)),
        history(business("marketing", False, 1)),
    ]
    first, *others = [consent.merge(order) for order in itertools.permutations(records)]
    assert all(other == first for other in others)
    view = consent.merge(records, scope="waba:1")
    assert view.scope == "waba:1"
    assert verdicts(view) == {**OK, "marketing": "MARKETING_OPTED_OUT"}


def test_the_stored_value_leaves_the_scope_out_and_reads_back() -> None:
    state = history(business("all", True, 0), said("STOP", 5)).model_copy(update={"scope": "s"})
    stored = state.stored()
    assert "scope" not in stored
    assert ConsentState.model_validate(stored) == state.model_copy(update={"scope": ""})


# values stored by the earlier version: per business number, `marketing` and `everything`

EARLIER = {"opted_in": True, "at": "2026-03-01T10:00:00Z", "source": "crm:signup"}


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param(
            {"marketing": EARLIER, "everything": None},
            only(marketing=None)(NONE_RECORDED),
            id="a-business-opt-in",
        ),
        pytest.param(
            {"marketing": {**EARLIER, "opted_in": False}, "everything": None},
            only(marketing="MARKETING_OPTED_OUT")(NONE_RECORDED),
            id="a-business-opt-out",
        ),
        pytest.param(
            {"marketing": {**EARLIER, "opted_in": False, "source": "keyword"}},
            ALL_STOPPED,
            id="a-stop-keyword-is-now-a-general-stop",
        ),
        pytest.param(
            {"marketing": {**EARLIER, "source": "keyword"}},
            NONE_RECORDED,
            id="a-start-keyword-was-never-an-opt-in",
        ),
        pytest.param(
            {"marketing": {**EARLIER, "opted_in": False, "source": "user_preferences"}},
            only(marketing="MARKETING_OPTED_OUT")(NONE_RECORDED),
            id="a-user-preferences-stop",
        ),
        pytest.param(
            {"marketing": {**EARLIER, "source": "user_preferences"}},
            NONE_RECORDED,
            id="a-resume-was-never-an-opt-in",
        ),
        pytest.param(
            {"marketing": {**EARLIER, "opted_in": False, "source": "send_error:131050"}},
            only(marketing="MARKETING_OPTED_OUT")(NONE_RECORDED),
            id="a-131050",
        ),
        pytest.param(
            {"marketing": EARLIER, "everything": {**EARLIER, "opted_in": False}},
            ALL_STOPPED,
            id="an-opt-out-of-everything",
        ),
        pytest.param({"marketing": None, "everything": None}, NONE_RECORDED, id="empty"),
    ],
)
def test_values_of_the_earlier_shape_are_read_with_todays_rules(
    stored: dict[str, Any], expected: dict[str, str | None]
) -> None:
    assert verdicts(ConsentState.model_validate(stored)) == expected


def test_the_stance_per_category_follows_the_configured_opt_in_requirement() -> None:
    rules = ConsentRules(opt_in_required=frozenset({"marketing"}))
    stance = consent.stance(ConsentState(), rules)
    assert {k: v["allowed"] for k, v in stance.items()} == {
        "marketing": False,
        "utility": True,
        "authentication": True,
    }
    assert stance["marketing"]["reason"] == "NO_OPT_IN"


@pytest.mark.parametrize(
    ("scope", "waba", "expected"),
    [
        ("waba", "111", "waba:111"),
        ("portfolio", "111", "portfolio:900"),
        ("portfolio", "222", "portfolio:default"),
    ],
)
def test_consent_is_kept_per_waba_or_per_portfolio(scope: str, waba: str, expected: str) -> None:
    rules = ConsentRules(
        scope=scope,  # type: ignore[arg-type]
        portfolio_ids={"111": "900"},
        default_portfolio_id="default",
    )
    assert rules.scope_of(waba) == expected
