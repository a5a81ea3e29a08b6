"""Meta's X-Hub-Signature-256: HMAC-SHA256 of the raw body, lowercase hex, `sha256=` prefix."""

from __future__ import annotations

import json

import pytest

from shared import webhook_signature
from shared.webhook_signature import sign, verify

SECRET = "6d3f0b6c2a1e4f5d8c9b7a6e5d4c3b2a"
OLD_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
BODY = json.dumps(
    {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "15550783881",
                                "phone_number_id": "106540352242922",
                            },
                            "messages": [
                                {
                                    "from": "16505551234",
                                    "id": WAMID,
                                    "timestamp": "1749416383",
                                    "type": "text",
                                    "text": {"body": "Does it come in another color?"},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    },
    separators=(",", ":"),
).encode()


def test_header_name_is_metas() -> None:
    assert webhook_signature.HEADER == "X-Hub-Signature-256"


def test_sign_matches_the_rfc_4231_hmac_sha256_vector() -> None:
    # RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
    expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

    assert sign(b"what do ya want for nothing?", "Jefe") == f"sha256={expected}"


@pytest.mark.parametrize("body", [BODY, b"", "¿Tiene otro color? 😀".encode()])
def test_sign_is_prefixed_lowercase_hex_of_64_digits(body: bytes) -> None:
    header = sign(body, SECRET)

    prefix, digest = header[:7], header[7:]
    assert prefix == "sha256="
    assert len(digest) == 64
    assert set(digest) <= set("0123456789abcdef")


def test_a_signed_body_verifies() -> None:
    assert verify(BODY, sign(BODY, SECRET), [SECRET]) is True


@pytest.mark.parametrize(
    ("signed_with", "secrets"),
    [
        pytest.param(SECRET, [SECRET, OLD_SECRET], id="current-first"),
        pytest.param(OLD_SECRET, [SECRET, OLD_SECRET], id="previous-during-rotation"),
        pytest.param(OLD_SECRET, (s for s in [SECRET, OLD_SECRET]), id="any-iterable"),
        pytest.param(SECRET, ["app-a", "app-b", SECRET], id="one-of-several-apps"),
    ],
)
def test_any_configured_secret_verifies_during_rotation(
    signed_with: str, secrets: list[str]
) -> None:
    assert verify(BODY, sign(BODY, signed_with), secrets) is True


@pytest.mark.parametrize(
    "secrets",
    [
        pytest.param(["wrong-secret"], id="wrong-secret"),
        pytest.param([OLD_SECRET], id="retired-secret-only"),
        pytest.param([SECRET.upper()], id="secret-is-case-sensitive"),
        pytest.param([], id="no-secrets-configured"),
    ],
)
def test_a_signature_under_another_secret_is_refused(secrets: list[str]) -> None:
    assert verify(BODY, sign(BODY, SECRET), secrets) is False


GOOD_DIGEST = sign(BODY, SECRET).removeprefix("sha256=")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param(GOOD_DIGEST, id="no-prefix"),
        pytest.param("sha1=" + GOOD_DIGEST, id="sha1-prefix"),
        pytest.param("SHA256=" + GOOD_DIGEST, id="prefix-wrong-case"),
        pytest.param("sha256=", id="prefix-only"),
        pytest.param("sha256=" + GOOD_DIGEST[:-1], id="63-digits"),
        pytest.param("sha256=" + GOOD_DIGEST + "0", id="65-digits"),
        pytest.param("sha256=" + "z" * 64, id="non-hex"),
        pytest.param("sha256=" + GOOD_DIGEST[:-1] + "g", id="one-non-hex-digit"),
        pytest.param("sha256=" + "0" * 64, id="zeros"),
    ],
)
def test_a_missing_or_malformed_header_is_refused(header: str | None) -> None:
    assert verify(BODY, header, [SECRET]) is False


@pytest.mark.parametrize(
    "header",
    [
        pytest.param("sha256=" + "é" * 64, id="non-ascii-digest"),
        pytest.param("sha256=" + GOOD_DIGEST[:-1] + "\u00e9", id="one-non-ascii-digit"),
    ],
)
def test_a_non_ascii_header_is_refused_not_an_error(header: str) -> None:
    assert verify(BODY, header, [SECRET]) is False


def test_uppercase_hex_digest_is_the_same_signature() -> None:
    assert verify(BODY, "sha256=" + GOOD_DIGEST.upper(), [SECRET]) is True


def _flip(body: bytes, index: int) -> bytes:
    changed = bytearray(body)
    changed[index] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize(
    "tampered",
    [
        pytest.param(_flip(BODY, 0), id="first-byte"),
        pytest.param(_flip(BODY, len(BODY) // 2), id="middle-byte"),
        pytest.param(_flip(BODY, len(BODY) - 1), id="last-byte"),
        pytest.param(BODY + b" ", id="one-byte-appended"),
        pytest.param(BODY[:-1], id="one-byte-removed"),
        pytest.param(BODY.replace(b"16505551234", b"16505551235", 1), id="digit-changed"),
    ],
)
def test_a_body_changed_by_one_byte_is_refused(tampered: bytes) -> None:
    assert tampered != BODY
    assert verify(tampered, sign(BODY, SECRET), [SECRET]) is False


NON_ASCII_TEXT = "¿Lo tienen en azul? 😀 Ünïcödé"


def test_a_non_ascii_body_verifies_over_its_raw_bytes() -> None:
    raw = json.dumps({"text": {"body": NON_ASCII_TEXT}}, ensure_ascii=False).encode()

    assert verify(raw, sign(raw, SECRET), [SECRET]) is True


def test_a_reserialised_non_ascii_body_no_longer_verifies() -> None:
    raw = json.dumps({"text": {"body": NON_ASCII_TEXT}}, ensure_ascii=False).encode()
    escaped = json.dumps({"text": {"body": NON_ASCII_TEXT}}, ensure_ascii=True).encode()

    assert escaped != raw
    assert verify(escaped, sign(raw, SECRET), [SECRET]) is False
    assert verify(raw, sign(escaped, SECRET), [SECRET]) is False


def test_a_non_ascii_secret_signs_and_verifies() -> None:
    secret = "sécret-ключ"

    assert verify(BODY, sign(BODY, secret), [secret]) is True
    assert verify(BODY, sign(BODY, secret), ["secret-kljuch"]) is False


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("verify-me", "verify-me", True),
        ("verify-me", "verify-mE", False),
        ("verify-me", "verify-me ", False),
        ("", "", True),
        ("jeton-été", "jeton-été", True),
        ("jeton-été", "jeton-ete", False),
    ],
)
def test_constant_equal(a: str, b: str, equal: bool) -> None:
    assert webhook_signature.constant_equal(a, b) is equal
