"""The checks Meta makes at send time, made first by policy: language codes in Meta's spelling,
the fallback chain of a language with no translation, parameter limits (one-time code, body and
header text, named header parameters, button indexes, the shape of `parameters`)."""

from __future__ import annotations

from typing import Any

import pytest

from services.policy import template_check
from services.policy.template_check import chain_for, language_code, parameter_problem, resolve
from services.policy.template_index import TemplateIndex
from shared.events.intents import TemplateContent
from shared.events.template_states import ButtonParameter, ParameterSpec, TemplateStateChanged

WABA = "102290129340398"


@pytest.mark.parametrize(
    ("given", "meta"),
    [
        ("en_US", "en_US"),
        ("en_us", "en_US"),
        ("EN-us", "en_US"),
        ("en-US", "en_US"),
        (" pt_br ", "pt_BR"),
        ("es", "es"),
        ("ES", "es"),
        ("fil", "fil"),
        ("zh_hant", "zh_Hant"),
        ("english", None),
        ("en_USA", None),
        ("e", None),
        ("en__US", None),
        ("en US", None),
        ("12_34", None),
        ("", None),
    ],
)
def test_language_codes_are_spelled_as_meta_spells_them(given: str, meta: str | None) -> None:
    assert language_code(given) == meta
    assert template_check.normalize_language(given) == (meta or given)


def _state(language: str, status: str = "APPROVED", fallback: tuple[str, ...] = ()) -> Any:
    return TemplateStateChanged(
        waba_id=WABA,
        name="order_shipped",
        language=language,
        category="UTILITY",
        status=status,
        fallback_languages=fallback,
    )


def _table(*states: TemplateStateChanged) -> dict[str, TemplateStateChanged]:
    return {s.key: s for s in states}


def _resolve(language: str, *states: TemplateStateChanged) -> template_check.TemplateVerdict:
    table = _table(*states)
    index = TemplateIndex(table)
    content = TemplateContent(name="order_shipped", language=language)
    return resolve(content, WABA, table.get, index.languages)


def test_a_language_that_is_no_code_is_refused() -> None:
    verdict = _resolve("english", _state("en_US"))
    assert verdict.reason == "TEMPLATE_UNKNOWN"
    assert "'english' is not a language code" in verdict.detail


def test_a_lowercase_code_finds_the_template_and_is_sent_in_metas_spelling() -> None:
    verdict = _resolve("en_us", _state("en_US"))
    assert verdict.reason is None and verdict.content is not None
    assert verdict.content.language == "en_US"


# pt_BR -> pt_PT -> en_US, as the templates service publishes it: each language carries what
# follows it in the chain; a language outside the chain carries the whole chain.
CHAIN = ("pt_BR", "pt_PT", "en_US")


@pytest.mark.parametrize(
    ("requested", "states", "sent", "reason"),
    [
        pytest.param(
            "pt_BR",
            [_state("pt_PT", fallback=("en_US",)), _state("en_US")],
            "en_US",
            None,
            id="no-translation-but-the-chain-names-it",
        ),
        pytest.param(
            "pt_BR",
            [_state("pt_PT", "PAUSED", fallback=("en_US",)), _state("en_US")],
            "en_US",
            None,
            id="the-chain-skips-a-paused-language",
        ),
        pytest.param(
            "fr",
            [_state("es", fallback=CHAIN), _state("pt_PT", fallback=("en_US",)), _state("en_US")],
            "pt_PT",
            None,
            id="a-language-outside-the-chain-takes-the-whole-chain",
        ),
        pytest.param(
            "pt_BR",
            [_state("pt_PT", "PENDING", fallback=("en_US",)), _state("en_US", "REJECTED")],
            None,
            "TEMPLATE_UNKNOWN",
            id="nothing-usable-reports-the-missing-language",
        ),
        pytest.param("pt_BR", [_state("en_US")], None, "TEMPLATE_UNKNOWN", id="no-chain-at-all"),
        pytest.param("pt_BR", [], None, "TEMPLATE_UNKNOWN", id="no-template"),
    ],
)
def test_a_language_with_no_translation_falls_back_along_the_templates_chain(
    requested: str, states: list[TemplateStateChanged], sent: str | None, reason: str | None
) -> None:
    verdict = _resolve(requested, *states)
    assert verdict.reason == reason
    if sent is None:
        assert verdict.content is None
        assert f"no template 'order_shipped' in {requested}" in verdict.detail
    else:
        assert verdict.content is not None and verdict.content.language == sent
        assert f"in place of {requested}" in verdict.detail


def test_a_failure_along_the_chain_says_what_each_language_is() -> None:
    verdict = _resolve(
        "pt_BR",
        _state("es", "REJECTED", fallback=CHAIN),
        _state("pt_PT", "PAUSED", fallback=("en_US",)),
        _state("en_US", "PENDING"),
    )
    assert "pt_PT is paused" in verdict.detail and "en_US is PENDING" in verdict.detail


@pytest.mark.parametrize(
    ("language", "chains", "expected"),
    [
        ("pt_BR", [("pt_PT", ("en_US",)), ("en_US", ())], ("en_US",)),
        ("pt_PT", [("pt_BR", ("pt_PT", "en_US"))], ("en_US",)),
        ("fr", [("es", CHAIN), ("en_US", ())], CHAIN),
        ("fr", [], ()),
        ("fr", [("en_US", ())], ()),
    ],
)
def test_the_chain_of_a_missing_language(
    language: str, chains: list[tuple[str, tuple[str, ...]]], expected: tuple[str, ...]
) -> None:
    siblings = [_state(lang, fallback=chain) for lang, chain in chains]
    assert chain_for(language, siblings) == expected


def test_the_index_follows_the_table_as_it_grows() -> None:
    table: dict[str, Any] = {_state("en_US").key: {}}
    index = TemplateIndex(table)
    assert index.languages(WABA, "order_shipped") == ("en_US",)
    table[_state("pt_PT").key] = {}  # written by another worker, through the changelog
    assert index.languages(WABA, "order_shipped") == ("en_US", "pt_PT")
    assert index.languages(WABA, "other") == ()
    assert index.languages("other-waba", "order_shipped") == ()


def _text(value: str, **more: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **more}


def _component(kind: str, *params: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": kind, "parameters": list(params), **more}


BODY_1 = ParameterSpec(body_count=1)
HEADER_1 = ParameterSpec(header_kind="text", header_count=1, body_count=1)
NAMED = ParameterSpec(
    parameter_format="named", header_kind="text", header_names=("order",), body_names=("name",)
)
OTP = ParameterSpec(body_count=1, buttons=(ButtonParameter(index=0, sub_type="url"),))
COPY = ParameterSpec(buttons=(ButtonParameter(index=0, sub_type="copy_code"),))
TWO_BUTTONS = ParameterSpec(
    buttons=(ButtonParameter(index=0, sub_type="url"), ButtonParameter(index=1, sub_type="url"))
)


@pytest.mark.parametrize(
    ("spec", "category", "components", "problem"),
    [
        pytest.param(
            BODY_1, "UTILITY", [_component("body", _text("x" * 1024))], None, id="body-1024"
        ),
        pytest.param(
            BODY_1,
            "UTILITY",
            [_component("body", _text("x" * 1025))],
            "longer than 1024",
            id="body-1025",
        ),
        pytest.param(
            HEADER_1,
            "UTILITY",
            [_component("header", _text("h" * 60)), _component("body", _text("b"))],
            None,
            id="header-60",
        ),
        pytest.param(
            HEADER_1,
            "UTILITY",
            [_component("header", _text("h" * 61)), _component("body", _text("b"))],
            "longer than 60",
            id="header-61",
        ),
        pytest.param(
            NAMED,
            "UTILITY",
            [
                _component("header", _text("A-1", parameter_name="order")),
                _component("body", _text("Ana", parameter_name="name")),
            ],
            None,
            id="named-header",
        ),
        pytest.param(
            NAMED,
            "UTILITY",
            [
                _component("header", _text("A-1", parameter_name="number")),
                _component("body", _text("Ana", parameter_name="name")),
            ],
            "the header takes the named parameters ['order']",
            id="named-header-wrong-name",
        ),
        pytest.param(
            OTP,
            "AUTHENTICATION",
            [
                _component("body", _text("1" * 15)),
                _component("button", _text("1" * 15), sub_type="url", index="0"),
            ],
            None,
            id="code-15",
        ),
        pytest.param(
            OTP,
            "AUTHENTICATION",
            [
                _component("body", _text("1" * 16)),
                _component("button", _text("1" * 15), sub_type="url", index="0"),
            ],
            "one-time code is longer than 15",
            id="code-16-in-the-body",
        ),
        pytest.param(
            OTP,
            "AUTHENTICATION",
            [
                _component("body", _text("123456")),
                _component("button", _text("1" * 16), sub_type="url", index="0"),
            ],
            "longer than 15",
            id="code-16-in-the-button",
        ),
        pytest.param(
            OTP,
            "UTILITY",
            [
                _component("body", _text("1" * 16)),
                _component("button", _text("track/" + "1" * 40), sub_type="url", index="0"),
            ],
            None,
            id="a-utility-url-is-no-code",
        ),
        pytest.param(
            COPY,
            "MARKETING",
            [
                _component(
                    "button",
                    {"type": "coupon_code", "coupon_code": "C" * 16},
                    sub_type="copy_code",
                    index=0,
                )
            ],
            "longer than 15",
            id="coupon-16",
        ),
        pytest.param(
            TWO_BUTTONS,
            "UTILITY",
            [
                _component("button", _text("a"), sub_type="url", index=0),
                _component("button", _text("b"), sub_type="url", index="0"),
            ],
            "button index 0 is given more than once",
            id="duplicate-index",
        ),
        pytest.param(
            BODY_1,
            "UTILITY",
            [{"type": "body", "parameters": 5}],
            "parameters are not a list of objects",
            id="parameters-a-number",
        ),
        pytest.param(
            BODY_1,
            "UTILITY",
            [{"type": "body", "parameters": ["Ana"]}],
            "parameters are not a list of objects",
            id="parameters-of-strings",
        ),
        pytest.param(
            BODY_1,
            "UTILITY",
            [{"type": "body", "parameters": {"text": "Ana"}}],
            "parameters are not a list of objects",
            id="parameters-an-object",
        ),
    ],
)
def test_send_time_limits(
    spec: ParameterSpec, category: str, components: list[dict[str, Any]], problem: str | None
) -> None:
    found = parameter_problem(components, spec, category)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found
