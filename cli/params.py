"""Option values the `wagate` commands read alike: KEY=VALUE pairs, strict JSON (inline or
@file), ISO 8601 instants, durations, URLs and Kafka addresses. A value that does not parse
is a usage error (exit 2) naming the option, never a traceback."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import click

from shared import strict_json

F = TypeVar("F", bound=Callable[..., Any])
FILE_MAX = 4 * 1024 * 1024  # bytes of a JSON, YAML or profile file the CLI reads
_HOST_PORT = re.compile(r"(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?")
_TOPIC_CHARS = re.compile(r"[A-Za-z0-9._-]*")
_DATE = r"\d{4}-\d{2}-\d{2}|\d{8}|\d{4}-?W\d{2}(?:-?\d)?"
_TIME = r"\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d{1,9})?)?)?"
_OFFSET = r"Z|[+-]\d{2}(?::?\d{2}(?::?\d{2}(?:\.\d{1,6})?)?)?"
_ISO_8601 = re.compile(rf"(?:{_DATE})(?:[T ](?:{_TIME})(?:{_OFFSET})?)?", re.ASCII)
"""The shapes of ISO 8601 the CLI takes (Python's own parser also takes trailing junk)."""


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
    """`text` read as every door of wagate reads JSON (`shared.strict_json.parse_value`: no
    NaN or Infinity, finite numbers, at most MAX_DEPTH levels, no NUL or unpaired surrogate);
    `what` names it in the error."""
    try:
        return strict_json.parse_value(text.encode("utf-8", errors="surrogatepass"), what=what)
    except strict_json.BadInput as exc:
        raise click.BadParameter(str(exc)) from exc


def read_text(path: str, what: str) -> str:
    """A UTF-8 text file of at most FILE_MAX bytes; anything else is a usage error."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(FILE_MAX + 1)
    except (OSError, ValueError) as exc:  # ValueError: a path with a NUL character
        raise click.BadParameter(f"cannot read {what} {path!r}: {exc}") from exc
    if len(data) > FILE_MAX:
        raise click.BadParameter(f"{what} {path!r} is larger than {FILE_MAX} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise click.BadParameter(f"{what} {path!r} is not UTF-8 text: {exc}") from exc


def json_arg(value: str, what: str) -> Any:
    """Inline JSON, or @path to a JSON file."""
    if value.startswith("@"):
        return json_value(read_text(value[1:], "file"), f"{what} ({value})")
    return json_value(value, what)


def parse_instant(value: str) -> datetime:
    """An ISO 8601 instant in UTC: with its offset when it has one (`Z`, `+02:00`), read as
    UTC when it has none; a date alone is its midnight UTC."""
    try:
        if not _ISO_8601.fullmatch(value.strip()):
            raise ValueError("not ISO 8601")
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise click.BadParameter(
            f"not an ISO 8601 time: {value!r} (e.g. 2026-03-05T09:00:00+01:00; UTC without an "
            "offset)"
        ) from exc


class Instant(click.ParamType):
    """An ISO 8601 time (see `parse_instant`)."""

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        try:
            return parse_instant(str(value))
        except click.BadParameter as exc:
            self.fail(exc.message, param, ctx)


class Number(click.ParamType):
    """A finite number (no NaN, no infinity), at least `minimum` when one is given."""

    name = "NUMBER"

    def __init__(self, minimum: float | None = None) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        if self.minimum is not None and number < self.minimum:
            self.fail(f"{value!r} is less than {self.minimum:g}", param, ctx)
        return number


class Seconds(Number):
    """A finite, non-negative number of seconds."""

    name = "SECONDS"

    def __init__(self) -> None:
        super().__init__(minimum=0)


class Url(click.ParamType):
    """An http:// or https:// URL with a host."""

    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        problem = url_problem(text)
        if problem:
            self.fail(f"{text!r} is not an http(s) URL: {problem}", param, ctx)
        return text


class Token(click.ParamType):
    """A secret sent in an HTTP header: printable, no spaces."""

    name = "TOKEN"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if not text.isascii() or not text.isprintable() or any(ch.isspace() for ch in text):
            self.fail("must be printable ASCII characters without spaces", param, ctx)
        return text


DEVELOPMENT_KEY = "wagate-dev-key"  # the API key of a local run (`make run`, the tests)


def service_url(envvar: str, default: str, what: str) -> Callable[[F], F]:
    """The `--url` option of a command group that calls one wagate service."""
    return click.option(
        "--url", envvar=envvar, type=Url(), default=default, show_default=True,
        help=f"{what} (env {envvar}).",
    )  # fmt: skip


def api_key(envvar: str, what: str) -> Callable[[F], F]:
    """The `--api-key` option of such a group: a bearer key, the local run's by default."""
    return click.option(
        "--api-key", envvar=envvar, type=Token(), default=DEVELOPMENT_KEY,
        help=f"{what} (env {envvar}).",
    )  # fmt: skip


def url_problem(text: str) -> str | None:
    """Why `text` is not a usable http(s) base URL, or None."""
    if any(ch.isspace() or ord(ch) < 0x20 for ch in text):
        return "it holds spaces or control characters"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "the scheme must be http or https"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "port 0"
    return None


def bootstrap_problem(text: str) -> str | None:
    """Why `text` is not a list of Kafka brokers (`host:port,host:port`), or None."""
    for item in text.split(","):
        match = _HOST_PORT.fullmatch(item.strip())
        if match is None:
            return f"{item!r} is not host:port"
        if match.group(1) is not None and not 0 < int(match.group(1)) < 65536:
            return f"{item!r} has no valid port"
    return None


def topic_prefix_problem(text: str) -> str | None:
    """Why `text` cannot start Kafka topic names, or None (letters, digits, `.`, `_`, `-`)."""
    if not _TOPIC_CHARS.fullmatch(text):
        return "topic names hold only letters, digits, '.', '_' and '-'"
    if len(text) > 200:
        return "it is longer than 200 characters"
    return None


def service_address(service: str, port: int) -> Callable[[F], F]:
    """The `--<service>-url` option of a command that talks to a service's HTTP API
    (env `WAGATE_<SERVICE>_URL`, default the service's local port)."""
    return click.option(
        f"--{service}-url",
        envvar=f"WAGATE_{service.upper()}_URL",
        type=Url(),
        default=f"http://127.0.0.1:{port}",
        show_default=True,
        help=f"{service.capitalize()}'s HTTP address (env WAGATE_{service.upper()}_URL).",
    )
