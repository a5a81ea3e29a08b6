"""The result values of template checks: one `Issue` per broken rule, naming the field
(`components[1].buttons[0].url`) so an author can fix it without guessing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    field: str
    code: str
    message: str
    severity: Severity = "error"

    def as_dict(self) -> dict[str, str]:
        return {
            "field": self.field,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


@dataclass(frozen=True)
class Verdict:
    """Everything the checks found: errors refuse the template, warnings only inform."""

    errors: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }

    @classmethod
    def of(cls, issues: Iterable[Issue]) -> Verdict:
        found = list(issues)
        return cls(
            errors=tuple(i for i in found if i.severity == "error"),
            warnings=tuple(i for i in found if i.severity == "warning"),
        )


def error(field: str, code: str, message: str) -> Issue:
    return Issue(field, code, message, "error")


def warning(field: str, code: str, message: str) -> Issue:
    return Issue(field, code, message, "warning")
