"""Sealing sensitive parameters: redact, seal, unseal, restore; key rotation."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
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


def _fernet_sealed(key: SecretStr, values: dict[str, str]) -> str:
    """A token as every release before AES-GCM sealed it (Fernet over the JSON values)."""
    return Fernet(key.get_secret_value().encode()).encrypt(json.dumps(values).encode()).decode()


def test_a_token_sealed_the_old_way_still_opens_with_its_key_anywhere_in_the_list() -> None:
    old, new = SecretStr(sealing.new_key()), SecretStr(sealing.new_key())
    token = _fernet_sealed(old, {"intent": '{"intent_id": "i-1"}'})
    assert Sealer([old]).unseal(token) == {"intent": '{"intent_id": "i-1"}'}
    assert Sealer([new, old]).unseal(token) == {"intent": '{"intent_id": "i-1"}'}
    with pytest.raises(sealing.SealError):
        Sealer([new]).unseal(token)


def test_sealing_is_aes_gcm_under_a_key_derived_from_the_first_one() -> None:
    key = SecretStr(sealing.new_key())
    token = Sealer([key]).seal({"0.0.text": "482913"})
    assert token.startswith("w2.")
    body = base64.urlsafe_b64decode(token[3:])
    material = HKDF(SHA256(), 36, salt=None, info=b"wagate sealing v2").derive(
        base64.urlsafe_b64decode(key.get_secret_value())
    )
    assert body[:4] == material[32:]  # the key's id, so opening needs no trial
    opened = AESGCM(material[:32]).decrypt(body[4:16], body[16:], b"w2.")
    assert json.loads(opened) == {"0.0.text": "482913"}
    assert Sealer([key]).seal({"0.0.text": "482913"}) != token  # a fresh nonce each time


@pytest.mark.parametrize(
    "spoil",
    [
        lambda t: t[:-4] + ("AAAA" if not t.endswith("AAAA") else "BBBB"),  # the tag
        lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:],  # the key id
        lambda t: t[:30] + ("A" if t[30] != "A" else "B") + t[31:],  # the ciphertext
        lambda t: "w2." + t[3:20],  # cut short
        lambda t: "w2.!!not base64!!",
        lambda t: "w2.",
        lambda t: "",
        lambda t: "gAAAAAgarbage",
        lambda t: "w2." + base64.urlsafe_b64encode(b"\x00" * 40).decode(),
        lambda t: "w2.é" + t[3:],
    ],
)
def test_a_spoiled_token_is_a_seal_error_never_a_crash_or_a_value(spoil: Any) -> None:
    sealer = Sealer([SecretStr(sealing.new_key())])
    token = sealer.seal({"0.0.text": "482913"})
    with pytest.raises(sealing.SealError):
        sealer.unseal(spoil(token))


def test_rotation_keeps_opening_what_the_previous_first_key_sealed() -> None:
    old, new = SecretStr(sealing.new_key()), SecretStr(sealing.new_key())
    before = Sealer([old]).seal({"intent": "x"})
    after = Sealer([new, old])
    assert after.unseal(before) == {"intent": "x"}
    assert after.unseal(after.seal({"intent": "y"})) == {"intent": "y"}
    with pytest.raises(sealing.SealError):  # sealed under the new first key: the old list fails
        Sealer([old]).unseal(after.seal({"intent": "y"}))
