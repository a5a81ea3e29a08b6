"""Policy's settings as the environment gives them (`POLICY_...`), here from an env file: the
consent rules, the business of each number, the clock skew."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.policy.consent import DEFAULT_OPT_OUT_REPLIES, DEFAULT_STOP_WORDS
from services.policy.settings import PolicySettings


def test_the_consent_settings_come_from_the_environment(tmp_path: Path) -> None:
    env = tmp_path / "policy.env"
    env.write_text(
        "POLICY_CONSENT_SCOPE=portfolio\n"
        'POLICY_WABA_IDS={"106540352242922": "w-1"}\n'
        "POLICY_DEFAULT_WABA_ID=w-0\n"
        'POLICY_PORTFOLIO_IDS={"w-1": "p-1"}\n'
        "POLICY_DEFAULT_PORTFOLIO_ID=p-0\n"
        'POLICY_OPT_IN_REQUIRED=["marketing"]\n'
        'POLICY_STOP_WORDS=["Halt!", "Basta"]\n'
        'POLICY_START_WORDS=["Go  On"]\n'
        'POLICY_OPT_OUT_REPLIES={"No More Offers": "marketing", "NO_REMINDERS": "utility"}\n'
        "POLICY_CLOCK_SKEW_S=30\n"
    )
    config = PolicySettings(_env_file=env).policy_config()  # type: ignore[call-arg]
    rules = config.consent
    assert rules.scope_of(config.waba_for("106540352242922")) == "portfolio:p-1"
    assert rules.scope_of(config.waba_for("another")) == "portfolio:p-0"
    assert rules.opt_in_required == frozenset({"marketing"})
    assert rules.stop_words == frozenset({"halt", "basta"})
    assert rules.start_words == frozenset({"go on"})
    assert dict(rules.opt_out_replies) == {"no more offers": "marketing", "no_reminders": "utility"}
    assert config.clock_skew == timedelta(seconds=30)


def test_the_defaults() -> None:
    config = PolicySettings().policy_config()
    rules = config.consent
    assert rules.scope_of(config.waba_for("any")) == "waba:100000000000001"
    assert rules.opt_in_required == frozenset({"marketing", "utility", "authentication"})
    assert rules.stop_words == DEFAULT_STOP_WORDS
    assert dict(rules.opt_out_replies) == dict(DEFAULT_OPT_OUT_REPLIES)
    assert config.clock_skew == timedelta(seconds=120)
