"""Signature and body checks of one webhook POST, before anything is kept."""

from __future__ import annotations

import pytest

from services.ingest.verify import Parsed, parse_body, signature_failure
from shared.strict_json import MAX_DEPTH
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
        pytest.param(b'{"entry": [', "the body is not JSON", id="truncated"),
        pytest.param(b"", "the body is not JSON", id="empty"),
        pytest.param(b"\xff\xfe{}", "the body is not UTF-8", id="not-utf8"),
        pytest.param('{"a": "é"}'.encode("latin-1"), "the body is not UTF-8", id="latin-1"),
        pytest.param(b"[1, 2]", "the body must be a JSON object", id="array"),
        pytest.param(b'"text"', "the body must be a JSON object", id="string"),
        pytest.param(b"[" * 100_000, "nests deeper than 32 levels", id="recursion"),
        pytest.param(_nested(MAX_DEPTH + 1), "nests deeper than 32 levels", id="too-deep"),
        pytest.param(b'{"n": ' + b"9" * 5000 + b"}", "not standard JSON", id="huge-integer"),
        pytest.param(b'{"t": "\\ud800"}', "$.t holds an unpaired surrogate", id="lone-surrogate"),
    ],
)
def test_bodies_that_are_refused(body: bytes, problem: str) -> None:
    refused = parse_body(body)
    assert isinstance(refused, str) and problem in refused


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
