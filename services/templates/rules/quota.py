"""Account-level creation rules (§2.2, §6.8): the template count cap, the hourly creation rate,
no duplicate content, no reuse of a deleted approved name within 30 days. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from services.templates.records import GONE, TemplateRecord
from services.templates.rules.issues import Issue, error
from services.templates.rules.spec import component

CREATIONS_PER_HOUR = 100
NAME_REUSE_WAIT = timedelta(days=30)


def check_account(
    candidate: Mapping[str, Any],
    siblings: Sequence[TemplateRecord],
    created_last_hour: int,
    limit: int,
    now: datetime,
) -> list[Issue]:
    """`siblings` are the account's stored templates; `limit` its template cap (250 or 6,000)."""
    issues: list[Issue] = []
    live = [r for r in siblings if r.status not in GONE]
    if len(live) >= limit:
        issues.append(
            error(
                "name",
                "TEMPLATE_LIMIT",
                f"the account holds {len(live)} template-languages, its limit"
                " (each language counts)",
            )
        )
    if created_last_hour >= CREATIONS_PER_HOUR:
        issues.append(
            error("name", "CREATION_RATE", "at most 100 templates may be created per hour")
        )
    issues += _check_reuse(candidate, siblings, now)
    issues += _check_duplicate(candidate, live)
    return issues


def _check_reuse(
    candidate: Mapping[str, Any], siblings: Sequence[TemplateRecord], now: datetime
) -> list[Issue]:
    name = candidate.get("name")
    recent = [
        r
        for r in siblings
        if r.name == name
        and r.status == "DELETED"
        and r.meta_id is not None
        and r.updated_at is not None
        and now - r.updated_at < NAME_REUSE_WAIT
    ]
    if recent:
        until = (max(r.updated_at for r in recent if r.updated_at) + NAME_REUSE_WAIT).date()
        return [
            error(
                "name",
                "NAME_RECENTLY_DELETED",
                f"a deleted template's name cannot be reused before {until.isoformat()}",
            )
        ]
    return []


def _check_duplicate(candidate: Mapping[str, Any], live: Sequence[TemplateRecord]) -> list[Issue]:
    """Meta rejects the body and footer of an existing template again (not for AUTHENTICATION)."""
    if str(candidate.get("category", "")).upper() == "AUTHENTICATION":
        return []
    mine = content(candidate.get("components") or [])
    for record in live:
        same_language = record.language == candidate.get("language")
        if (
            same_language
            and record.name != candidate.get("name")
            and content(record.components) == mine
        ):
            return [
                error(
                    "components",
                    "DUPLICATE_CONTENT",
                    f"the same body and footer as template {record.name!r} in {record.language}",
                )
            ]
    return []


def content(components: Sequence[Any]) -> tuple[str, str]:
    valid = [c for c in components if isinstance(c, Mapping)]
    body = component(valid, "BODY") or {}
    footer = component(valid, "FOOTER") or {}
    return str(body.get("text", "")).strip(), str(footer.get("text", "")).strip()
