"""Signature and body checks of one webhook POST, before anything is kept."""

from __future__ import annotations

import pytest

from services.ingest.verify import MAX_DEPTH, Parsed, parse_body, signature_failure
from shared.webhook_signature import sign

BODY = b'{"object":"whatsapp_business_account","entry":[]}'
OLD, NEW = "old-app-secret", "new-app-secret"


@pytest.mark.parametrize(
    ("header", "secrets", "failure"),
    [
        pytest.param(sign(BODY, NEW), [NEW], None, id="valid"),
        pytest.param(sign(BODY, OLD), [NEW, OLD], None, id="rotation-old-secret"),
        pytest.param(sign(BODY, NEW), [NEW, OLD], None, id="rotation-new-secret"),
        pytest.param(
            sign(BODY, NEW).upper().replace("SHA256=", "sha256="), [NEW], None, id="uppercase-hex"
        ),
        pytest.param(None, [NEW], "missing", id="missing"),
        pytest.param("", [NEW], "missing", id="empty"),
        pytest.param(sign(BODY, NEW)[7:], [NEW], "malformed", id="no-prefix"),
        pytest.param("sha1=" + sign(BODY, NEW)[7:], [NEW], "malformed", id="sha1-prefix"),
        pytest.param(sign(BODY, NEW)[:-2], [NEW], "malformed", id="short"),
        pytest.param("sha256=" + "z" * 64, [NEW], "malformed", id="not-hex"),
        pytest.param(sign(BODY, "another"), [NEW, OLD], "mismatch", id="wrong-secret"),
        pytest.param(sign(BODY + b" ", NEW), [NEW], "mismatch", id="other-body"),
        pytest.param(sign(BODY, NEW), [], "mismatch", id="no-secrets"),
    ],
)
def test_signature(header: str | None, secrets: list[str], failure: str | None) -> None:
    assert signature_failure(BODY, header, secrets) == failure


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        pytest.param(b'{"entry": [', "body is not JSON", id="truncated"),
        pytest.param(b"", "body is not JSON", id="empty"),
        pytest.param(b"\xff\xfe{}", "body is not UTF-8", id="not-utf8"),
        pytest.param('{"a": "é"}'.encode("latin-1"), "body is not UTF-8", id="latin-1"),
        pytest.param(b"[1, 2]", "body is not a JSON object", id="array"),
        pytest.param(b'"text"', "body is not a JSON object", id="string"),
        pytest.param(b"[" * 100_000, "body is nested too deeply", id="recursion"),
        pytest.param(_nested(MAX_DEPTH + 1), "body is nested too deeply", id="too-deep"),
        pytest.param(b'{"n": ' + b"9" * 5000 + b"}", "body is not JSON", id="huge-integer"),
        pytest.param(b'{"t": "\\ud800"}', "body has invalid unicode escapes", id="lone-surrogate"),
    ],
)
def test_bodies_that_are_refused(body: bytes, problem: str) -> None:
    assert parse_body(body) == problem


@pytest.mark.parametrize(
    "body",
    [
        BODY,
        _nested(MAX_DEPTH - 1),
        b'{"text": "Ol\\u00e1 \\ud83d\\ude00"}',
        '{"text": "Olá 😀"}'.encode(),
    ],
)
def test_bodies_that_are_accepted(body: bytes) -> None:
    parsed = parse_body(body)

    assert isinstance(parsed, Parsed)
    assert parsed.text == body.decode()
