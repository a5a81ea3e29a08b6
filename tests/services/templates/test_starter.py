"""The starter library: every template valid, without category warnings, in three languages."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from services.templates.rules.validation import check
from services.templates.starter import starter_templates

STARTER = starter_templates()
LANGUAGES = {"en_US", "es", "pt_BR"}


@pytest.mark.parametrize("tpl", STARTER, ids=[f"{t['name']}.{t['language']}" for t in STARTER])
def test_each_starter_template_is_valid_and_clean(tpl: dict[str, Any]) -> None:
    verdict = check(tpl)
    assert verdict.errors == () and verdict.warnings == ()


def test_every_everyday_case_in_three_languages_with_each_header_kind() -> None:
    languages: dict[str, set[str]] = defaultdict(set)
    for tpl in STARTER:
        languages[tpl["name"]].add(tpl["language"])
    assert set(languages) == {
        "appointment_reminder",
        "payment_confirmation",
        "shipping_update",
        "travel_update",
        "one_time_passcode",
        "loyalty_follow_up",
    }
    assert all(found == LANGUAGES for found in languages.values())
    formats = {c.get("format") for t in STARTER for c in t["components"] if c["type"] == "HEADER"}
    assert formats == {"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"}
    kinds = {b["type"] for t in STARTER for c in t["components"] for b in c.get("buttons", [])}
    assert kinds == {"QUICK_REPLY", "URL", "PHONE_NUMBER", "OTP"}
