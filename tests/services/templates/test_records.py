"""The registry's values: a stored template-language, its creation request, its API shape and
its published state."""

from __future__ import annotations

import pytest

from services.templates.records import fallbacks_after

FALLBACKS = [
    ("pt_BR", ("pt_BR", "pt", "en"), ("pt", "en")),
    ("pt", ("pt_BR", "pt", "en"), ("en",)),
    ("en", ("pt_BR", "pt", "en"), ()),
    ("es", ("pt_BR", "pt", "en"), ("pt_BR", "pt", "en")),
    ("es", (), ()),
]


@pytest.mark.parametrize(("language", "chain", "expected"), FALLBACKS)
def test_fallbacks_after(language: str, chain: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert fallbacks_after(language, chain) == expected
