"""Template intents, decided: the template checks (status, fallback chain, parameters), then
marketing consent and caps, and pricing. Sealing a template's sensitive values is in
test_handlers.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.policy.caps import Caps, MarketingLog
from services.policy.consent import ConsentState, Opinion
from services.policy.rules import Facts, PolicyConfig, decide
from services.policy.windows import WindowState
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.template_states import ButtonParameter, ParameterSpec, TemplateStateChanged
from tests.services.policy.opted_in import OPTED_IN

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WABA = "102290129340398"
PNID = "106540352242922"
CONFIG = PolicyConfig(caps=Caps(per_day=1, per_week=2), default_waba_id=WABA)
BODY_2 = ParameterSpec(body_count=2)


def _state(
    name: str = "order_shipped",
    language: str = "en_US",
    status: str = "APPROVED",
    category: str = "UTILITY",
    spec: ParameterSpec = BODY_2,
    fallback: tuple[str, ...] = (),
) -> TemplateStateChanged:
    return TemplateStateChanged(
        waba_id=WABA,
        name=name,
        language=language,
        category=category,
        status=status,
        parameters=spec,
        fallback_languages=fallback,
    )


def _lookup(*states: TemplateStateChanged) -> Any:
    table = {s.key: s for s in states}
    return table.get


def _body(*values: str) -> list[dict[str, Any]]:
    return [{"type": "body", "parameters": [{"type": "text", "text": v} for v in values]}]


def _intent(
    name: str = "order_shipped",
    language: str = "en_US",
    components: list[dict[str, Any]] | None = None,
) -> OutboundIntentSubmitted:
    content = TemplateContent(
        name=name,
        language=language,
        components=_body("Ana", "#42") if components is None else components,
    )
    return OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to="16045551234", content=content
    )


@pytest.mark.parametrize(
    ("status", "outcome", "reason"),
    [
        ("APPROVED", "approved", None),
        ("PAUSED", "rejected", "TEMPLATE_PAUSED"),
        ("PENDING", "rejected", "TEMPLATE_NOT_APPROVED"),
        ("REJECTED", "rejected", "TEMPLATE_NOT_APPROVED"),
        ("DISABLED", "rejected", "TEMPLATE_NOT_APPROVED"),
        ("DRAFT", "rejected", "TEMPLATE_NOT_APPROVED"),
    ],
)
def test_only_approved_templates_are_sent(status: str, outcome: str, reason: str | None) -> None:
    verdict = decide(
        _intent(), Facts(consent=OPTED_IN, templates=_lookup(_state(status=status))), NOW, CONFIG
    )
    assert verdict.outcome == outcome
    assert verdict.reasons == ([reason] if reason else [])


def test_an_unknown_template_or_language_is_rejected() -> None:
    facts = Facts(consent=OPTED_IN, templates=_lookup(_state(language="es")))
    verdict = decide(_intent(language="en_US"), facts, NOW, CONFIG)
    assert verdict.reasons == ["TEMPLATE_UNKNOWN"]


def test_both_language_spellings_find_the_template() -> None:
    verdict = decide(
        _intent(language="en-US"), Facts(consent=OPTED_IN, templates=_lookup(_state())), NOW, CONFIG
    )
    assert verdict.outcome == "approved"
    assert verdict.send is not None
    assert verdict.send.content.language == "en_US"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("states", "sent_language", "reason"),
    [
        pytest.param(
            (("pt_BR", "PAUSED"), ("pt_PT", "APPROVED"), ("en_US", "APPROVED")),
            "pt_PT",
            None,
            id="first-step",
        ),
        pytest.param(
            (("pt_BR", "PAUSED"), ("pt_PT", "PENDING"), ("en_US", "APPROVED")),
            "en_US",
            None,
            id="second-step",
        ),
        pytest.param(
            (("pt_BR", "PAUSED"), ("pt_PT", "PENDING"), ("en_US", "REJECTED")),
            None,
            "TEMPLATE_PAUSED",
            id="none-usable-reports-the-requested",
        ),
        pytest.param((("pt_BR", "PAUSED"),), None, "TEMPLATE_PAUSED", id="chain-not-registered"),
    ],
)
def test_the_fallback_chain_is_tried_in_order(
    states: tuple[tuple[str, str], ...], sent_language: str | None, reason: str | None
) -> None:
    chain = ("pt_PT", "en_US")
    table = [
        _state(language=lang, status=st, fallback=chain if lang == "pt_BR" else ())
        for lang, st in states
    ]
    verdict = decide(
        _intent(language="pt_BR"), Facts(consent=OPTED_IN, templates=_lookup(*table)), NOW, CONFIG
    )
    if reason is None:
        assert verdict.outcome == "approved"
        assert verdict.send is not None
        assert verdict.send.content.language == sent_language  # type: ignore[union-attr]
    else:
        assert verdict.reasons == [reason]


IMAGE_HEADER = ParameterSpec(
    header_kind="image", body_count=1, buttons=(ButtonParameter(index=0, sub_type="url"),)
)
IMAGE = {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://x/a.png"}}]}
URL_BUTTON = {
    "type": "button",
    "sub_type": "url",
    "index": "0",
    "parameters": [{"type": "text", "text": "track/42"}],
}


@pytest.mark.parametrize(
    ("spec", "components", "ok"),
    [
        pytest.param(BODY_2, _body("Ana", "#42"), True, id="positional-count"),
        pytest.param(BODY_2, _body("Ana"), False, id="too-few"),
        pytest.param(BODY_2, _body("Ana", "#42", "x"), False, id="too-many"),
        pytest.param(BODY_2, _body("Ana", " "), False, id="empty-value"),
        pytest.param(
            ParameterSpec(parameter_format="named", body_names=("first_name",)),
            [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}],
                }
            ],
            True,
            id="named",
        ),
        pytest.param(
            ParameterSpec(parameter_format="named", body_names=("first_name",)),
            [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": "Ana", "parameter_name": "name"}],
                }
            ],
            False,
            id="named-wrong-name",
        ),
        pytest.param(IMAGE_HEADER, [IMAGE, *_body("Ana"), URL_BUTTON], True, id="media-and-button"),
        pytest.param(IMAGE_HEADER, [*_body("Ana"), URL_BUTTON], False, id="media-missing"),
        pytest.param(IMAGE_HEADER, [IMAGE, *_body("Ana")], False, id="button-missing"),
        pytest.param(BODY_2, [*_body("Ana", "#42"), URL_BUTTON], False, id="unexpected-button"),
    ],
)
def test_parameters_must_match_the_spec(
    spec: ParameterSpec, components: list[dict[str, Any]], ok: bool
) -> None:
    verdict = decide(
        _intent(components=components),
        Facts(consent=OPTED_IN, templates=_lookup(_state(spec=spec))),
        NOW,
        CONFIG,
    )
    assert verdict.outcome == ("approved" if ok else "rejected")
    if not ok:
        assert verdict.reasons == ["TEMPLATE_PARAMETERS_MISMATCH"]


def test_an_authentication_template_must_carry_the_code() -> None:
    state = _state(name="otp", category="AUTHENTICATION", spec=ParameterSpec(body_count=0))
    verdict = decide(
        _intent(name="otp", components=[]),
        Facts(consent=OPTED_IN, templates=_lookup(state)),
        NOW,
        CONFIG,
    )
    assert verdict.reasons == ["TEMPLATE_PARAMETERS_MISMATCH"]
    assert "one-time code" in verdict.detail


def _consent(opted_in: bool | None, everything: bool | None = None) -> ConsentState:
    business = {}
    if opted_in is not None:
        business["marketing"] = Opinion(opted_in=opted_in, at=NOW, source="t")
    if everything is not None:
        business["all"] = Opinion(opted_in=everything, at=NOW + timedelta(seconds=1), source="t")
    return ConsentState(business=business)


MARKETING = _state(name="spring_sale", category="MARKETING", spec=ParameterSpec(body_count=0))


@pytest.mark.parametrize(
    ("consent", "log", "outcome", "reason"),
    [
        pytest.param(None, None, "rejected", "NO_OPT_IN", id="no-consent"),
        pytest.param(_consent(True), None, "approved", None, id="opted-in"),
        pytest.param(_consent(False), None, "rejected", "MARKETING_OPTED_OUT", id="opted-out"),
        pytest.param(
            _consent(True),
            MarketingLog(sent_at=(NOW - timedelta(hours=2),)),
            "rejected",
            "MARKETING_FREQUENCY_CAP",
            id="daily-cap",
        ),
        pytest.param(
            _consent(True),
            MarketingLog(sent_at=(NOW - timedelta(hours=25),)),
            "approved",
            None,
            id="yesterday-is-fine",
        ),
        pytest.param(
            _consent(True),
            MarketingLog(sent_at=(NOW - timedelta(days=2), NOW - timedelta(days=4))),
            "rejected",
            "MARKETING_FREQUENCY_CAP",
            id="weekly-cap",
        ),
        pytest.param(
            _consent(True, everything=False),
            None,
            "rejected",
            "OPTED_OUT",
            id="opted-out-of-everything",
        ),
    ],
)
def test_marketing_needs_opt_in_and_respects_caps(
    consent: ConsentState | None, log: MarketingLog | None, outcome: str, reason: str | None
) -> None:
    facts = Facts(consent=consent, marketing=log, templates=_lookup(MARKETING))
    verdict = decide(_intent(name="spring_sale", components=[]), facts, NOW, CONFIG)
    assert verdict.outcome == outcome
    assert verdict.reasons == ([reason] if reason else [])
    assert verdict.marketing is (outcome == "approved")


def test_free_form_marketing_inside_the_window_is_capped_but_needs_no_opt_in() -> None:
    window = WindowState(last_customer_message_at=NOW - timedelta(hours=1))
    intent = OutboundIntentSubmitted(
        intent_id="m",
        phone_number_id=PNID,
        to="16045551234",
        content=TextContent(body="20% off today"),
        category="marketing",
    )
    assert decide(intent, Facts(window=window), NOW, CONFIG).outcome == "approved"
    capped = Facts(window=window, marketing=MarketingLog(sent_at=(NOW - timedelta(hours=3),)))
    assert decide(intent, capped, NOW, CONFIG).reasons == ["MARKETING_FREQUENCY_CAP"]


def test_a_closed_window_falls_back_to_the_named_template() -> None:
    intent = OutboundIntentSubmitted(
        intent_id="f",
        phone_number_id=PNID,
        to="16045551234",
        content=TextContent(body="Hi"),
        fallback_template=TemplateContent(
            name="order_shipped", language="en_US", components=_body("Ana", "#42")
        ),
    )
    verdict = decide(intent, Facts(consent=OPTED_IN, templates=_lookup(_state())), NOW, CONFIG)
    assert verdict.outcome == "approved"
    assert verdict.reasons == ["FALLBACK_TEMPLATE"]
    assert verdict.send is not None and verdict.send.content.type == "template"
    assert verdict.send.fallback_template is None
    assert verdict.pricing == "utility"


@pytest.mark.parametrize(
    ("category", "window", "pricing"),
    [
        ("UTILITY", None, "utility"),
        ("UTILITY", WindowState(last_customer_message_at=NOW - timedelta(hours=2)), "free_service"),
        ("AUTHENTICATION", None, "authentication"),
        (
            "UTILITY",
            WindowState(
                last_customer_message_at=NOW - timedelta(hours=2),
                free_entry_until=NOW + timedelta(hours=5),
            ),
            "free_entry_point",
        ),
    ],
)
def test_expected_pricing(category: str, window: WindowState | None, pricing: str) -> None:
    state = _state(category=category)
    verdict = decide(
        _intent(), Facts(window=window, consent=OPTED_IN, templates=_lookup(state)), NOW, CONFIG
    )
    assert verdict.outcome == "approved"
    assert verdict.pricing == pricing
