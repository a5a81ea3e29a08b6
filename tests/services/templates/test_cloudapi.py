"""How the template client reads the Cloud API's answers: success, refusal, retry later."""

from __future__ import annotations

import json

import pytest

from services.templates.cloudapi import _parse
from services.templates.errors import CloudApiUnavailable, MetaApiError


def _error(code: int, message: str = "m") -> str:
    return json.dumps({"error": {"code": code, "message": message}})


def test_success_is_the_body() -> None:
    assert _parse(200, '{"id": "1", "status": "PENDING"}') == {"id": "1", "status": "PENDING"}
    assert _parse(200, "") == {}


REFUSED = [
    (400, _error(100, "Invalid parameter"), 100),
    (400, _error(2388019, "too many templates"), 2388019),
    (403, _error(200, "permission"), 200),
    (400, "not json", 0),
]


@pytest.mark.parametrize(("status", "text", "code"), REFUSED)
def test_refusals_are_permanent(status: int, text: str, code: int) -> None:
    with pytest.raises(MetaApiError) as raised:
        _parse(status, text)
    assert raised.value.code == code and raised.value.http_status == status


LATER = [
    (500, _error(1)),
    (400, _error(80007, "rate limit")),
    (400, _error(4, "app rate limit")),
    (503, _error(2)),
    (429, ""),
    (502, "<html>bad gateway</html>"),
]


@pytest.mark.parametrize(("status", "text"), LATER)
def test_throttling_and_server_errors_are_retryable(status: int, text: str) -> None:
    with pytest.raises(CloudApiUnavailable):
        _parse(status, text)


def test_the_user_message_is_preferred() -> None:
    text = json.dumps({"error": {"code": 100, "message": "x", "error_user_msg": "Name taken"}})
    with pytest.raises(MetaApiError, match="Name taken"):
        _parse(400, text)
