"""The small field checks the payload rules share: required and optional strings with a limit."""

from __future__ import annotations

import pytest

from services.sandbox.rules.fields import as_dict, as_list, first, optional_text, required_text


@pytest.mark.parametrize(
    ("value", "code"),
    [("ok", None), ("x" * 5, None), (None, 131008), ("", 131008), (7, 131009), ("x" * 6, 100)],
)
def test_required_text(value: object, code: int | None) -> None:
    error = required_text({"title": value}, "title", "reply", 5)

    assert (error.code if error else None) == code
    if error is not None:
        assert error.details is not None and "reply.title" in error.details


@pytest.mark.parametrize(("value", "code"), [(None, None), ("", None), (7, 131009), ("x" * 6, 100)])
def test_optional_text(value: object, code: int | None) -> None:
    error = optional_text({"caption": value}, "caption", "image", 5)

    assert (error.code if error else None) == code


def test_first_is_the_first_error_in_order() -> None:
    late = required_text({}, "b", "x", 1)
    early = required_text({}, "a", "x", 1)

    assert first(None, early, late) is early
    assert first(None, None) is None


def test_as_dict_and_as_list_keep_only_their_kind() -> None:
    assert as_dict({"a": 1}) == {"a": 1}
    assert as_dict([1]) is None
    assert as_list([1]) == [1]
    assert as_list({"a": 1}) is None
