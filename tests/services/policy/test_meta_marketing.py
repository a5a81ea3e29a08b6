"""Meta's own marketing rules before sending: the US pause (by phone plan, or a `US.` BSUID)
and Meta's per-customer cap (131049), which holds that customer's marketing and lets the
intent go again within its `not_after`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.policy.caps import Caps, MarketingLog, sent
from services.policy.meta_marketing import capped_at, held_until, hold, us_customer
from services.policy.rules import Facts, PolicyConfig, decide, marketing_log
from services.policy.settings import PolicySettings
from services.policy.windows import WindowState
from shared.events.intents import OutboundIntentSubmitted, Redecision, TemplateContent
from shared.events.template_states import ParameterSpec, TemplateStateChanged
from tests.conftest import SEALING_KEY
from tests.services.policy.opted_in import OPTED_IN

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
WABA = "102290129340398"
PNID = "106540352242922"
CONFIG = PolicyConfig(caps=Caps(per_day=0, per_week=0), default_waba_id=WABA)


def _state(category: str) -> TemplateStateChanged:
    return TemplateStateChanged(
        waba_id=WABA, name="t", language="en_US", category=category, status="APPROVED",
        parameters=ParameterSpec(body_count=0),
    )  # fmt: skip


def _facts(category: str, **values: object) -> Facts:
    state = _state(category)
    return Facts(consent=OPTED_IN, templates={state.key: state}.get, **values)  # type: ignore[arg-type]


def _intent(
    to: str | None = "5511988887777",
    recipient: str | None = None,
    not_after: datetime | None = None,
    redecision: Redecision | None = None,
    occurred_at: datetime = NOW,
) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=to, recipient=recipient,
        content=TemplateContent(name="t", language="en_US"), not_after=not_after,
        redecision=redecision, occurred_at=occurred_at,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("phone", "bsuid", "us"),
    [
        ("16505551234", None, True),  # California
        ("+1 (212) 555-0123", None, True),  # New York, written with separators
        ("12025550173", None, True),
        ("16045551234", None, False),  # Vancouver: +1, but Canada
        ("14165550100", None, False),  # Toronto
        ("18765550100", None, False),  # Jamaica shares +1
        ("5511988887777", None, False),
        ("15550001111", None, False),  # no US area code in use
        ("", None, False),
        ("not a phone", None, False),
        (None, "US.13491208655302741918", True),
        (None, "us.13491208655302741918", True),
        (None, "US.ENT.8841203376615520", True),  # a parent BSUID of a US customer
        (None, "BR.8841203376615520", False),
        (None, "CA.8841203376615520", False),
        (None, None, False),
        ("5511988887777", "US.13491208655302741918", False),  # a phone is the better hint
    ],
)
def test_who_counts_as_a_us_customer(phone: str | None, bsuid: str | None, us: bool) -> None:
    assert us_customer(phone, bsuid) is us


@pytest.mark.parametrize(
    ("category", "to", "recipient", "pause", "outcome", "reasons"),
    [
        ("MARKETING", "16505551234", None, True, "rejected", ["US_MARKETING_PAUSED"]),
        ("MARKETING", None, "US.13491208655302741918", True, "rejected", ["US_MARKETING_PAUSED"]),
        ("MARKETING", "16045551234", None, True, "approved", []),
        ("MARKETING", None, "BR.8841203376615520", True, "approved", []),
        ("MARKETING", "16505551234", None, False, "approved", []),  # switched off
        ("UTILITY", "16505551234", None, True, "approved", []),  # marketing only
    ],
)
def test_marketing_templates_to_us_customers_are_refused_before_sending(
    category: str,
    to: str | None,
    recipient: str | None,
    pause: bool,
    outcome: str,
    reasons: list[str],
) -> None:
    config = PolicyConfig(caps=CONFIG.caps, default_waba_id=WABA, us_marketing_pause=pause)
    verdict = decide(_intent(to, recipient), _facts(category), NOW, config)
    assert (verdict.outcome, verdict.reasons) == (outcome, reasons)


def test_a_us_customer_known_by_bsuid_with_a_phone_on_record_is_judged_by_the_phone() -> None:
    intent = _intent(None, "CA.8841203376615520")
    assert decide(intent, _facts("MARKETING", phone="16505551234"), NOW, CONFIG).reasons == [
        "US_MARKETING_PAUSED"
    ]


def test_the_pause_is_on_by_default_and_the_hold_a_day() -> None:
    assert PolicyConfig().us_marketing_pause is True
    settings = PolicySettings(sealing_keys=[SEALING_KEY])
    assert settings.us_marketing_pause is True and settings.marketing_hold_s == 86_400
    config = PolicySettings(
        sealing_keys=[SEALING_KEY], us_marketing_pause=False, marketing_hold_s=5,
        messaging_limits={"p2": 0, "p3": 10},
    ).policy_config()  # fmt: skip
    assert (config.us_marketing_pause, config.marketing_hold) == (False, timedelta(seconds=5))
    assert config.messaging_limits == {"p2": None, "p3": 10}  # 0: unlimited


def _capped() -> Redecision:
    return Redecision(count=1, reason="131049", detail="capped")


@pytest.mark.parametrize(
    ("reason", "capped"), [("131049", True), ("131047", False), ("APPROVAL_EXPIRED", False)]
)
def test_only_an_intent_back_after_131049_says_meta_capped_the_customer(
    reason: str, capped: bool
) -> None:
    intent = _intent(redecision=Redecision(count=1, reason=reason))
    assert (capped_at(intent) == NOW) is capped
    assert capped_at(_intent()) is None


def test_a_hold_lasts_its_wait_and_a_longer_one_stays() -> None:
    held = hold(None, NOW, DAY)
    assert held.meta_held_until == NOW + DAY
    assert hold(held, NOW - timedelta(hours=2), DAY) == held  # an earlier cap ends sooner
    assert hold(held, NOW + timedelta(hours=1), DAY).meta_held_until == NOW + DAY + timedelta(
        hours=1
    )
    assert held_until(held, NOW + DAY - timedelta(seconds=1)) == NOW + DAY
    assert held_until(held, NOW + DAY) is None
    assert held_until(None, NOW) is None


@pytest.mark.parametrize(
    ("not_after", "outcome", "valid_until"),
    [
        (None, "deferred", NOW + DAY),
        (NOW + DAY + timedelta(hours=1), "deferred", NOW + DAY),
        (NOW + DAY, "rejected", None),  # its time ends before the hold does
        (NOW + timedelta(hours=3), "rejected", None),
    ],
)
def test_an_intent_back_after_131049_waits_out_the_hold_within_its_not_after(
    not_after: datetime | None, outcome: str, valid_until: datetime | None
) -> None:
    intent = _intent(not_after=not_after, redecision=_capped())
    verdict = decide(intent, _facts("MARKETING"), NOW, CONFIG)
    assert (verdict.outcome, verdict.reasons) == (outcome, ["CUSTOMER_MARKETING_HELD"])
    assert verdict.valid_until == valid_until


def test_the_customers_other_marketing_waits_too_and_goes_once_the_hold_ends() -> None:
    log = marketing_log(_intent(redecision=_capped()), None, CONFIG)
    other = _intent().model_copy(update={"intent_id": "i-2"})
    during = decide(other, _facts("MARKETING", marketing=log), NOW + timedelta(hours=5), CONFIG)
    assert (during.outcome, during.reasons) == ("deferred", ["CUSTOMER_MARKETING_HELD"])
    after = decide(other, _facts("MARKETING", marketing=log), NOW + DAY, CONFIG)
    assert after.outcome == "approved"
    utility = decide(other, _facts("UTILITY", marketing=log), NOW + timedelta(hours=5), CONFIG)
    assert utility.outcome == "approved"  # only marketing waits


def test_a_configured_hold_replaces_metas_day() -> None:
    config = PolicyConfig(
        caps=CONFIG.caps, default_waba_id=WABA, marketing_hold=timedelta(seconds=5)
    )
    verdict = decide(_intent(redecision=_capped()), _facts("MARKETING"), NOW, config)
    assert verdict.valid_until == NOW + timedelta(seconds=5)


def test_the_hold_survives_a_marketing_approval_being_counted() -> None:
    log = MarketingLog(meta_held_until=NOW + DAY)
    assert sent(log, NOW).meta_held_until == NOW + DAY


def test_marketing_inside_an_open_window_is_still_held() -> None:
    window = WindowState(last_customer_message_at=NOW - timedelta(hours=1))
    log = MarketingLog(meta_held_until=NOW + DAY)
    verdict = decide(_intent(), _facts("MARKETING", window=window, marketing=log), NOW, CONFIG)
    assert verdict.reasons == ["CUSTOMER_MARKETING_HELD"]
