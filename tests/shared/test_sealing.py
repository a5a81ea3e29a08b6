"""Sealing sensitive parameters: redact, seal, unseal, restore; key rotation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from shared import sealing
from shared.sealing import REDACTED, Sealer

OTP = [
    {"type": "body", "parameters": [{"type": "text", "text": "482913", "sensitive": True}]},
    {
        "type": "button",
        "sub_type": "url",
        "index": "0",
        "parameters": [{"type": "text", "text": "482913", "sensitive": True}],
    },
    {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]},
]


def test_marked_values_are_redacted_and_come_back_without_the_marker() -> None:
    redacted, values = sealing.redact(OTP, sealing.marked)
    assert [p["text"] for c in redacted[:2] for p in c["parameters"]] == [REDACTED, REDACTED]
    assert redacted[2]["parameters"][0]["text"] == "Ana"
    assert "482913" not in repr(redacted)
    restored = sealing.restore(redacted, values)
    assert restored[0]["parameters"] == [{"type": "text", "text": "482913"}]
    assert restored[1]["parameters"] == [{"type": "text", "text": "482913"}]
    assert OTP[0]["parameters"][0]["text"] == "482913"  # the input is not changed


def test_coupon_codes_and_payloads_are_values_too() -> None:
    components: list[dict[str, Any]] = [
        {
            "type": "button",
            "sub_type": "copy_code",
            "index": "0",
            "parameters": [{"type": "coupon_code", "coupon_code": "SAVE20"}],
        }
    ]
    redacted, values = sealing.redact(components, lambda c, p: True)
    assert redacted[0]["parameters"][0]["coupon_code"] == REDACTED
    assert values == {"0.0.coupon_code": "SAVE20"}


def test_a_sealed_token_opens_with_a_rotated_key_list_but_not_a_foreign_key() -> None:
    old, new = SecretStr(sealing.new_key()), SecretStr(sealing.new_key())
    token = Sealer([old]).seal({"0.0.text": "482913"})
    assert "482913" not in token
    assert Sealer([new, old]).unseal(token) == {"0.0.text": "482913"}
    with pytest.raises(sealing.SealError):
        Sealer([new]).unseal(token)


def test_a_sealer_needs_a_key() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Sealer([])
