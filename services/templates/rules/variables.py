"""Placeholders in template text: parsing, format (positional `{{1}}` or named
`{{first_name}}`), numbering, placement and density rules. Pure."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Literal

from services.templates.rules.issues import Issue, error

ParameterFormat = Literal["positional", "named"]
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
POSITIONAL = re.compile(r"[1-9][0-9]*")
NAMED = re.compile(r"[a-z_][a-z0-9_]*")
WORD = re.compile(r"\w+")
# Meta refuses text whose variables outnumber its fixed words (2388293) without publishing the
# ratio; two fixed words per variable, less one, accepts every example in Meta's pages.
FIXED_WORDS_PER_VARIABLE = 2


@dataclass(frozen=True)
class Placeholder:
    inner: str
    start: int
    end: int


def placeholders(text: str) -> list[Placeholder]:
    return [Placeholder(m.group(1), m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]


def filled(sample: object) -> bool:
    """A usable sample value for a variable: text that is not blank."""
    return isinstance(sample, str) and bool(sample.strip())


def names(text: str) -> list[str]:
    """Distinct variable names of `text` in order of first appearance."""
    seen: list[str] = []
    for p in placeholders(text):
        if p.inner.strip() not in seen:
            seen.append(p.inner.strip())
    return seen


def check_syntax(text: str, field: str, fmt: ParameterFormat) -> list[Issue]:
    """Each placeholder is well formed and of the template's parameter format."""
    issues: list[Issue] = []
    leftover = PLACEHOLDER.sub("", text)
    if "{{" in leftover or "}}" in leftover:
        issues.append(error(field, "UNBALANCED_BRACES", "a '{{' or '}}' is not part of a variable"))
    for p in placeholders(text):
        inner = p.inner
        if POSITIONAL.fullmatch(inner):
            if fmt == "named":
                issues.append(
                    error(
                        field,
                        "PARAMETER_FORMAT_MISMATCH",
                        f"positional variable {{{{{inner}}}}} in a template with named parameters",
                    )
                )
        elif NAMED.fullmatch(inner):
            if fmt == "positional":
                issues.append(
                    error(
                        field,
                        "PARAMETER_FORMAT_MISMATCH",
                        f"named variable {{{{{inner}}}}} in a template with positional parameters"
                        " (set parameter_format to named)",
                    )
                )
        else:
            issues.append(
                error(
                    field,
                    "INVALID_VARIABLE",
                    f"{{{{{inner}}}}} is not a variable: use {{{{1}}}}, {{{{2}}}} ... or"
                    " lowercase letters, digits and underscores such as {{first_name}}",
                )
            )
    return issues


def check_sequence(text: str, field: str) -> list[Issue]:
    """Positional variables appear as {{1}}, {{2}} ... in order; every variable appears once."""
    found = [p.inner for p in placeholders(text)]
    repeated = sorted({v for v in found if found.count(v) > 1})
    if repeated:
        shown = ", ".join(f"{{{{{v}}}}}" for v in repeated)
        return [
            error(field, "REPEATED_VARIABLE", f"each variable may appear once; repeated: {shown}")
        ]
    numbers = [int(v) for v in found if POSITIONAL.fullmatch(v)]
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        shown = ", ".join(f"{{{{{n}}}}}" for n in numbers)
        return [
            error(
                field,
                "VARIABLES_NOT_SEQUENTIAL",
                f"positional variables must be {{{{1}}}}, {{{{2}}}} ... in order; found {shown}",
            )
        ]
    return []


def check_placement(text: str, field: str) -> list[Issue]:
    """No variable at the start or end, no two variables side by side, not too dense."""
    found = placeholders(text)
    if not found:
        return []
    issues: list[Issue] = []
    stripped = text.strip()
    if stripped.startswith("{{"):
        issues.append(error(field, "VARIABLE_AT_START", "the text must not start with a variable"))
    if stripped.endswith("}}"):
        issues.append(error(field, "VARIABLE_AT_END", "the text must not end with a variable"))
    for before, after in itertools.pairwise(found):
        if not text[before.end : after.start].strip():
            issues.append(
                error(
                    field,
                    "ADJACENT_VARIABLES",
                    f"{{{{{before.inner}}}}} and {{{{{after.inner}}}}}"
                    " need fixed text between them",
                )
            )
    fixed_words = len(WORD.findall(PLACEHOLDER.sub(" ", text)))
    needed = FIXED_WORDS_PER_VARIABLE * len(found) - 1
    if fixed_words < needed:
        issues.append(
            error(
                field,
                "TOO_MANY_VARIABLES",
                f"{len(found)} variables need at least {needed} words of fixed text;"
                f" found {fixed_words}",
            )
        )
    return issues
