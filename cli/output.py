"""What every `wagate` command does on the way out: a table on a terminal, today's JSON lines
elsewhere or with `--json`, progress on stderr, one error line on stderr, and the exit codes.

Exit codes, distinct so scripts can branch on them (the README's CLI section lists them too):

    0   done: the command did what was asked (with `send --wait`: the Cloud API took the message)
    1   failed: Meta failed the message, or it expired before it could be sent; for other
        commands, the outcome asked about is a failure (a closed window, an invalid template,
        a request the service refused, a dead letter that cannot be redriven)
    2   usage: a bad option, argument, file, profile or environment value; nothing was sent
    3   refused by policy: the intent was `rejected` (its reasons say why)
    4   pending: `--wait` ran out before the intent reached an outcome
    69  unavailable: Kafka or a service could not be reached (sysexits EX_UNAVAILABLE)
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any, Literal, NoReturn, TypeVar

import aiohttp
import click
from aiokafka.errors import KafkaConnectionError, KafkaError, MessageSizeTooLargeError

from shared.runtime import EXIT_UNAVAILABLE

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_PENDING = 4
EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_FAILED: "failed (at Meta, expired, or the outcome asked about is a failure)",
    EXIT_USAGE: "usage error (nothing was sent)",
    EXIT_REFUSED: "refused by policy",
    EXIT_PENDING: "no outcome within --wait",
    EXIT_UNAVAILABLE: "unavailable (Kafka or a service cannot be reached)",
}

Mode = Literal["json", "table"]
MODE_KEY = "wagate.output"
CELL_MAX = 60  # characters of one table cell before it is cut
T = TypeVar("T")


def set_mode(ctx: click.Context, mode: Mode) -> None:
    """Choose the output of this invocation (the context's meta is shared with subcommands)."""
    ctx.meta[MODE_KEY] = mode


def as_json() -> bool:
    """JSON lines when asked (`--json`) or when stdout is not a terminal; a table otherwise."""
    ctx = click.get_current_context(silent=True)
    mode = ctx.meta.get(MODE_KEY) if ctx is not None else None
    if mode is None:
        return not click.get_text_stream("stdout").isatty()
    return bool(mode == "json")


def echo_json(value: Any, *, ensure_ascii: bool = True) -> None:
    """One JSON document on one line of stdout."""
    click.echo(json.dumps(value, default=str, ensure_ascii=ensure_ascii))


def show(value: Any, *, columns: Sequence[str] | None = None, ensure_ascii: bool = True) -> None:
    """Print one answer: one JSON line, or for a person a table (a list of objects, or an
    object holding one), or aligned `key  value` lines (an object)."""
    if as_json():
        echo_json(value, ensure_ascii=ensure_ascii)
        return
    for line in render(value, columns):
        click.echo(line)


def show_rows(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Several answers: one JSON line each, or one table of `columns`."""
    if as_json():
        for row in rows:
            echo_json(row)
        return
    for line in table(rows, columns):
        click.echo(line)


def render(value: Any, columns: Sequence[str] | None = None) -> list[str]:
    """The lines a person sees for `value` (see `show`)."""
    if _is_rows(value):
        return table(value, columns)
    if isinstance(value, Mapping):
        nested = [k for k, v in value.items() if _is_rows(v)]
        if len(nested) == 1:
            rest = {k: v for k, v in value.items() if k != nested[0]}
            head = pairs_lines(rest) if rest else []
            return [*head, *table(value[nested[0]], columns)]
        return pairs_lines(value)
    return [cell(value, limit=None)]


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, Mapping) for v in value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> list[str]:
    """Aligned columns under an upper-case header, fitted to the terminal's width."""
    if not rows:
        return ["(none)"]
    cols = list(columns) if columns else list(dict.fromkeys(k for row in rows for k in row))
    cells = [[cell(row.get(c)) for c in cols] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(cols)]
    _fit(widths, shutil.get_terminal_size().columns, len(cols))
    header = [c.upper() for c in cols]
    return [_line(r, widths) for r in [header, *cells]]


def _fit(widths: list[int], room: int, count: int) -> None:
    """Narrow the widest columns until the line fits `room` (each keeps at least 8)."""
    while sum(widths) + 2 * (count - 1) > room:
        widest = max(range(count), key=lambda i: widths[i])
        if widths[widest] <= 8:
            return
        widths[widest] -= 1


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(_cut(c, w).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def pairs_lines(value: Mapping[str, Any]) -> list[str]:
    """`key  value` lines, keys aligned; nested values as compact JSON, never cut."""
    width = max((len(str(k)) for k in value), default=0)
    return [f"{cell(k, limit=None).ljust(width)}  {cell(v, limit=None)}" for k, v in value.items()]


def cell(value: Any, limit: int | None = CELL_MAX) -> str:
    """One value as a person reads it, control characters made visible, cut at `limit`."""
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    else:
        text = str(value)
    text = "".join(_visible(ch) for ch in text)
    return text if limit is None else _cut(text, limit)


def _visible(ch: str) -> str:
    """Control characters (a terminal would obey them) shown as escapes instead."""
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        return f"\\x{code:02x}"
    return ch


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


class Progress:
    """A progress bar on stderr while long work runs, only on a terminal (stdout stays clean
    for scripts): `with Progress("replay") as bar: bar.at(done, total)` or `bar.advance()`."""

    def __init__(self, label: str, total: int = 0) -> None:
        self._label = label
        self._total = total
        self._done = 0
        self._stream = click.get_text_stream("stderr")
        self._bar: Any = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)

    def advance(self, steps: int = 1) -> None:
        self.at(self._done + steps, self._total)

    def at(self, done: int, total: int) -> None:
        """`done` steps of `total` (the total may be learnt once the work starts)."""
        if total <= 0 or not self._stream.isatty():
            self._done = done
            return
        if self._bar is None:
            self._bar = click.progressbar(
                length=total, label=self._label, file=self._stream, show_pos=True
            )
            self._bar.__enter__()
        self._bar.update(max(0, min(done, total) - self._done))
        self._done = min(done, total)


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """One `error: ...` line on stderr, then exit with `code`."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def unavailable(message: str) -> NoReturn:
    """Say which server could not be reached (stderr), and exit 69."""
    fail(message, EXIT_UNAVAILABLE)


SETTLE_S = 0.5  # the longest a command waits, once done, for its connections to finish closing


async def _settled(coro: Coroutine[Any, Any, T]) -> T:
    """`coro`, then a wait (at most `SETTLE_S`) while a connection it closed is still closing:
    a TLS connection closes over a few round trips, and one left closing when the loop ends
    leaks its socket (a refused SASL login over TLS did)."""
    try:
        return await coro
    finally:
        loop = asyncio.get_running_loop()
        # the loop's own map of its transports: no public way to list them; absent, no wait
        transports = getattr(loop, "_transports", {})
        deadline = loop.time() + SETTLE_S
        while any(t.is_closing() for t in list(transports.values())):
            if loop.time() >= deadline:
                break
            await asyncio.sleep(0.005)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's Kafka work: a record over Kafka's size limit is a usage error (2), a
    broker that cannot be reached or refuses the request exits 69."""
    try:
        return asyncio.run(_settled(coro))
    except MessageSizeTooLargeError as exc:
        raise click.UsageError(f"too large for Kafka: {exc}") from exc
    except BrokenPipeError:
        raise  # stdout closed (`| head`): click ends quietly
    except (KafkaConnectionError, KafkaError, OSError) as exc:
        unavailable(f"Kafka is unreachable or refused the request: {exc}")


def run_http(coro: Coroutine[Any, Any, T], server: str, url: str) -> T:
    """Run a command's HTTP calls to `server` at `url`; no connection exits 69."""
    try:
        return asyncio.run(_settled(coro))
    except BrokenPipeError:
        raise
    except (aiohttp.ClientConnectionError, TimeoutError, OSError) as exc:
        unavailable(f"{server} is unreachable at {url}: {exc}")


async def request_json(
    method: str,
    url: str,
    *,
    body: Mapping[str, Any] | None = None,
    query: Mapping[str, str] | None = None,
) -> tuple[int, Any]:
    """One HTTP request to a wagate service: its status and JSON answer (or the answer's first
    200 characters when it is no JSON)."""
    timeout = aiohttp.ClientTimeout(total=10)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body, params=query, timeout=timeout) as resp,
    ):
        raw = await resp.read()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode(errors="replace")[:200]
