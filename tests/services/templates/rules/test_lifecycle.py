"""How webhook updates, sync read-backs and edits change a stored template."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.templates.records import TemplateRecord
from services.templates.rules.lifecycle import (
    apply_update,
    check_edit,
    edit_windows,
    reconcile,
    remote_record,
)
from shared.events.templates import TemplateUpdateReported

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
PENDING = TemplateRecord("1", "order_update", "en_US", "UTILITY", status="PENDING", meta_id="9")
APPROVED = TemplateRecord(
    "1", "order_update", "en_US", "UTILITY", status="APPROVED", meta_id="9", status_reported_at=T1
)


def update(kind: str, **fields: Any) -> TemplateUpdateReported:
    return TemplateUpdateReported(kind=kind, waba_id="1", template_id="9", **fields)  # type: ignore[arg-type]


UPDATES: list[tuple[str, TemplateRecord, TemplateUpdateReported, dict[str, Any]]] = [
    (
        "approved",
        PENDING,
        update("status", event="APPROVED", reported_at=T0),
        {"status": "APPROVED", "meta_id": "9", "status_reported_at": T0, "rejected_reason": None},
    ),
    (
        "rejected with reason",
        PENDING,
        update("status", event="REJECTED", reason="INVALID_FORMAT"),
        {"status": "REJECTED", "meta_id": "9", "rejected_reason": "INVALID_FORMAT"},
    ),
    (
        "rejected, reason in rejection_info",
        PENDING,
        update("status", event="REJECTED", details={"rejection_info": {"reason": "PROMOTIONAL"}}),
        {"status": "REJECTED", "meta_id": "9", "rejected_reason": "PROMOTIONAL"},
    ),
    (
        "paused",
        APPROVED,
        update("status", event="PAUSED", reason="NONE", reported_at=T1),
        {"status": "PAUSED", "meta_id": "9", "status_reported_at": T1},
    ),
    (
        "an older status arrives late",
        APPROVED,
        update("status", event="PENDING", reported_at=T0),
        {},
    ),
    (
        "status carries the category",
        PENDING,
        update("status", event="APPROVED", category="marketing"),
        {"status": "APPROVED", "meta_id": "9", "rejected_reason": None, "category": "MARKETING"},
    ),
    (
        "re-categorisation announced",
        APPROVED,
        update("category", new_category="UTILITY", correct_category="MARKETING"),
        {"correct_category": "MARKETING"},
    ),
    (
        "re-categorisation done",
        APPROVED,
        update("category", previous_category="UTILITY", new_category="MARKETING"),
        {"category": "MARKETING", "correct_category": None},
    ),
    ("category update without news", APPROVED, update("category"), {}),
    ("quality", APPROVED, update("quality", new_quality_score="RED"), {"quality": "RED"}),
    ("components", APPROVED, update("components"), {}),
]


@pytest.mark.parametrize(
    ("case", "record", "event", "expected"), UPDATES, ids=[u[0] for u in UPDATES]
)
def test_apply_update(
    case: str, record: TemplateRecord, event: TemplateUpdateReported, expected: dict[str, Any]
) -> None:
    assert apply_update(record, event) == expected


RECONCILE: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "approved with quality",
        {
            "id": "9",
            "status": "APPROVED",
            "category": "UTILITY",
            "quality_score": {"score": "GREEN"},
        },
        {
            "meta_id": "9",
            "status": "APPROVED",
            "category": "UTILITY",
            "quality": "GREEN",
            "rejected_reason": None,
            "correct_category": None,
        },
    ),
    (
        "pending re-categorisation",
        {"id": "9", "status": "APPROVED", "category": "UTILITY", "correct_category": "MARKETING"},
        {
            "meta_id": "9",
            "status": "APPROVED",
            "category": "UTILITY",
            "rejected_reason": None,
            "correct_category": "MARKETING",
        },
    ),
    (
        "rejected",
        {"id": "9", "status": "REJECTED", "category": "UTILITY", "rejected_reason": "SCAM"},
        {
            "meta_id": "9",
            "status": "REJECTED",
            "category": "UTILITY",
            "rejected_reason": "SCAM",
            "correct_category": None,
        },
    ),
]


@pytest.mark.parametrize(("case", "remote", "expected"), RECONCILE, ids=[r[0] for r in RECONCILE])
def test_reconcile(case: str, remote: dict[str, Any], expected: dict[str, Any]) -> None:
    assert reconcile(PENDING, remote) == expected


def test_a_template_made_elsewhere_is_adopted() -> None:
    found = remote_record(
        "1",
        {
            "id": "5",
            "name": "hello",
            "language": "en-US",
            "category": "marketing",
            "status": "APPROVED",
        },
    )
    assert found is not None
    assert (found.language, found.category, found.status, found.meta_id) == (
        "en_US",
        "MARKETING",
        "APPROVED",
        "5",
    )
    assert remote_record("1", {"id": "5"}) is None


EDITS: list[tuple[str, str, str | None, int, int, set[str]]] = [
    ("draft", "DRAFT", None, 0, 0, set()),
    ("rejected, often", "REJECTED", "MARKETING", 5, 20, set()),
    ("paused", "PAUSED", None, 3, 30, set()),
    ("pending", "PENDING", None, 0, 0, {"NOT_EDITABLE"}),
    ("disabled", "DISABLED", None, 0, 0, {"NOT_EDITABLE"}),
    ("approved, first edit", "APPROVED", None, 0, 9, set()),
    ("approved, same category", "APPROVED", "utility", 0, 0, set()),
    ("approved, category change", "APPROVED", "MARKETING", 0, 0, {"CATEGORY_LOCKED"}),
    ("approved, second edit today", "APPROVED", None, 1, 1, {"EDIT_LIMIT"}),
    ("approved, eleventh in 30 days", "APPROVED", None, 0, 10, {"EDIT_LIMIT"}),
]


@pytest.mark.parametrize(
    ("case", "status", "category", "day", "month", "codes"), EDITS, ids=[e[0] for e in EDITS]
)
def test_check_edit(
    case: str, status: str, category: str | None, day: int, month: int, codes: set[str]
) -> None:
    record = TemplateRecord("1", "n", "en", "UTILITY", status=status)
    assert {i.code for i in check_edit(record, category, day, month)} == codes


def test_edit_limits_count_back_a_day_and_thirty_days() -> None:
    day, month = edit_windows(T1)
    assert (T1 - day, T1 - month) == (timedelta(days=1), timedelta(days=30))
