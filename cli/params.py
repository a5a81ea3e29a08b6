"""Option values the `wagate` commands read alike: repeated KEY=VALUE pairs and inline JSON.
A value that does not parse is a usage error (exit 2) naming the option."""

from __future__ import annotations

import json
from typing import Any

import click


def pairs(items: tuple[str, ...], metavar: str, option: str) -> dict[str, str]:
    """`option` given as `metavar` (e.g. KEY=VALUE) any number of times, as one dict."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r} is not {metavar}", param_hint=option)
        out[key] = value
    return out


def json_value(text: str, what: str) -> Any:
    """`text` parsed as JSON; `what` names it in the error (an option or a file)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not JSON: {exc}") from exc
