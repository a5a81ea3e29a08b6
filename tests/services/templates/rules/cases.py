"""Rule cases run through `check`: (name, template, the (field, code) of every error it must
find), an empty set where the template is valid."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from services.templates.rules.validation import check

OK: set[tuple[str, str]] = set()
Case = tuple[str, dict[str, Any], set[tuple[str, str]]]


def each(cases: list[Case]) -> pytest.MarkDecorator:
    """Parametrize a test with `cases`, each named by its first item."""
    return pytest.mark.parametrize(("case", "tpl", "expected"), cases, ids=[c[0] for c in cases])


def errors_of(tpl: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (field, code) of every error `check` finds; the template is ok exactly without any."""
    verdict = check(tpl)
    assert verdict.ok == (not verdict.errors)
    return {(e.field, e.code) for e in verdict.errors}
