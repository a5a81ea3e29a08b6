"""Value objects used by several event families."""

from __future__ import annotations

from typing import Any

from shared.events.envelope import Model


class MetaError(Model):
    """An error object as the Cloud API reports it (`code`, `title`, `message`, details)."""

    code: int
    title: str | None = None
    message: str | None = None
    details: str | None = None
    href: str | None = None

    @classmethod
    def from_payload(cls, raw: dict[str, Any]) -> MetaError:
        data = raw.get("error_data") or {}
        return cls(
            code=int(raw.get("code", 0)),
            title=raw.get("title"),
            message=raw.get("message"),
            details=data.get("details") if isinstance(data, dict) else None,
            href=raw.get("href"),
        )
