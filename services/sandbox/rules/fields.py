"""Small pure field checks shared by the payload rules: required strings and length limits."""

from __future__ import annotations

from collections.abc import Mapping

from services.sandbox.rules import codes
from shared.events.common import MetaError


def required_text(obj: Mapping[str, object], key: str, where: str, limit: int) -> MetaError | None:
    """`key` must be a non-empty string of at most `limit` characters."""
    value = obj.get(key)
    if value is None or value == "":
        return codes.missing_parameter(f"{where}.{key} is required")
    return optional_text(obj, key, where, limit)


def optional_text(obj: Mapping[str, object], key: str, where: str, limit: int) -> MetaError | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        return codes.invalid_value(f"{where}.{key} must be a string")
    if len(value) > limit:
        return codes.invalid_parameter(f"{where}.{key} is longer than {limit} characters")
    return None


def first(*errors: MetaError | None) -> MetaError | None:
    """The first error of checks evaluated in order."""
    return next((e for e in errors if e is not None), None)


def as_dict(value: object) -> dict[str, object] | None:
    return value if isinstance(value, dict) else None


def as_list(value: object) -> list[object] | None:
    return value if isinstance(value, list) else None
