"""Responses checked against the OpenAPI document the service serves."""

from __future__ import annotations

from typing import Any

import jsonschema

from services.templates.openapi import DOCUMENT


def assert_documented(method: str, path: str, status: int, body: Any) -> None:
    """`body` is what the document promises for `method path` answering `status`."""
    operation = DOCUMENT["paths"][path.split("?")[0]][method.lower()]
    assert str(status) in operation["responses"], f"{method} {path} may not answer {status}"
    schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    jsonschema.Draft202012Validator({**schema, "components": DOCUMENT["components"]}).validate(body)
