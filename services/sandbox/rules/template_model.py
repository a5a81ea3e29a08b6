"""Message templates as the sandbox stores them, and pure reads of their structure
(variables, header format, buttons)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

VARIABLE = re.compile(r"\{\{(.*?)\}\}")
POSITIONAL = re.compile(r"[1-9][0-9]*")
NAMED = re.compile(r"[a-z_][a-z0-9_]*")
MEDIA_FORMATS = frozenset({"IMAGE", "VIDEO", "DOCUMENT", "GIF"})
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")


@dataclass(frozen=True)
class Template:
    id: str
    name: str
    language: str
    category: str
    components: tuple[dict[str, Any], ...]
    created_at: datetime
    parameter_format: str = "positional"
    status: str = "PENDING"
    quality: str = "UNKNOWN"
    reason: str | None = None
    pauses: int = 0
    edits: tuple[datetime, ...] = ()
    name_reserved_until: datetime | None = None
    paced: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def component(self, kind: str) -> dict[str, Any] | None:
        return next((c for c in self.components if str(c.get("type")).upper() == kind), None)

    @property
    def header_format(self) -> str | None:
        header = self.component("HEADER")
        return str(header.get("format", "TEXT")).upper() if header else None

    def header_variables(self) -> list[str]:
        header = self.component("HEADER")
        if header is None or self.header_format != "TEXT":
            return []
        return variables(str(header.get("text", "")))

    def body_variables(self) -> list[str]:
        body = self.component("BODY")
        if body is None:
            return []
        if self.category == "AUTHENTICATION":
            return ["1"]
        return variables(str(body.get("text", "")))

    def buttons(self) -> list[dict[str, Any]]:
        group = self.component("BUTTONS")
        raw = group.get("buttons") if group else None
        return [b for b in raw if isinstance(b, dict)] if isinstance(raw, list) else []

    def to_api(self) -> dict[str, Any]:
        """The template as `GET /{waba-id}/message_templates` returns it."""
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "parameter_format": self.parameter_format.upper(),
            "components": list(self.components),
            "quality_score": {"score": self.quality},
            **({"paced": True} if self.paced else {}),
            **({"rejected_reason": self.reason} if self.status == "REJECTED" else {}),
        }


def variables(text: str) -> list[str]:
    """The placeholders of `text` in order of appearance, without braces or blanks."""
    return [m.group(1).strip() for m in VARIABLE.finditer(text)]


def button_needs_parameter(button: dict[str, Any]) -> str | None:
    """The send-time `sub_type` a template button needs a value for, or None for static ones."""
    kind = str(button.get("type", "")).upper()
    if kind == "URL" and VARIABLE.search(str(button.get("url", ""))):
        return "url"
    if kind == "OTP":
        return "url"
    if kind == "COPY_CODE":
        return "copy_code"
    if kind == "FLOW":
        return "flow"
    return None
