"""Account-level rules: template cap, hourly creations, duplicate content, name reuse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.templates.records import TemplateRecord
from services.templates.rules.quota import check_account
from tests.services.templates.builders import auth, body, footer, template

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def stored(name: str, status: str = "APPROVED", **fields: Any) -> TemplateRecord:
    return TemplateRecord(
        "1",
        name,
        fields.pop("language", "en_US"),
        "UTILITY",
        status=status,
        meta_id=fields.pop("meta_id", "9"),
        components=fields.pop("components", [body("Other text {{1}} here, {{2}} too.")]),
        updated_at=fields.pop("updated_at", NOW - timedelta(days=1)),
    )


SAME = [body(), footer()]
CASES: list[tuple[str, dict[str, Any], list[TemplateRecord], int, int, set[str]]] = [
    ("empty account", template(), [], 0, 250, set()),
    ("below the cap", template(), [stored(f"t{i}") for i in range(249)], 0, 250, set()),
    ("at the cap", template(), [stored(f"t{i}") for i in range(250)], 0, 250, {"TEMPLATE_LIMIT"}),
    (
        "deleted ones do not count",
        template(),
        [stored(f"t{i}", "DELETED", updated_at=NOW - timedelta(days=60)) for i in range(250)],
        0,
        250,
        set(),
    ),
    ("verified cap", template(), [stored(f"t{i}") for i in range(250)], 0, 6000, set()),
    ("99 created this hour", template(), [], 99, 250, set()),
    ("100 created this hour", template(), [], 100, 250, {"CREATION_RATE"}),
    (
        "same body and footer elsewhere",
        template(*SAME),
        [stored("other", components=SAME)],
        0,
        250,
        {"DUPLICATE_CONTENT"},
    ),
    (
        "same body, other footer",
        template(*SAME),
        [stored("other", components=[body(), footer("Another shop")])],
        0,
        250,
        set(),
    ),
    (
        "same content in another language",
        template(*SAME),
        [stored("other", language="es", components=SAME)],
        0,
        250,
        set(),
    ),
    (
        "duplicate authentication is fine",
        auth(),
        [stored("other", components=auth()["components"])],
        0,
        250,
        set(),
    ),
    (
        "name deleted 10 days ago",
        template(),
        [stored("order_update", "DELETED", updated_at=NOW - timedelta(days=10))],
        0,
        250,
        {"NAME_RECENTLY_DELETED"},
    ),
    (
        "name deleted 31 days ago",
        template(),
        [stored("order_update", "DELETED", updated_at=NOW - timedelta(days=31))],
        0,
        250,
        set(),
    ),
    (
        "a never submitted draft was deleted",
        template(),
        [stored("order_update", "DELETED", meta_id=None)],
        0,
        250,
        set(),
    ),
]


@pytest.mark.parametrize(
    ("case", "candidate", "siblings", "last_hour", "limit", "codes"),
    CASES,
    ids=[c[0] for c in CASES],
)
def test_account_rules(
    case: str,
    candidate: dict[str, Any],
    siblings: list[TemplateRecord],
    last_hour: int,
    limit: int,
    codes: set[str],
) -> None:
    assert {i.code for i in check_account(candidate, siblings, last_hour, limit, NOW)} == codes
