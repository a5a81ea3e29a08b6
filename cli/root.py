"""The root of the `wagate` command: its options (Kafka, profile, output, version), the
arguments every command refuses (NUL characters, bytes that are not UTF-8), and `--json` on
every command."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from typing import Any, TypeVar

import click

from cli import config
from cli.output import set_mode
from shared.client import ENV_PREFIX

F = TypeVar("F", bound=Callable[..., Any])
QUIET_LOGGERS = ("aiokafka", "kafka", "aiohttp")
LEGACY_ENV = {"KAFKA_BOOTSTRAP": "BOOTSTRAP", "WAGATE_TOPIC_PREFIX": "TOPIC_PREFIX"}
"""Older, generic variable names still read: below the WAGATE_KAFKA__ names and the profile,
so a `KAFKA_BOOTSTRAP` left in a shell never sends a profile's commands to another cluster."""


def version() -> str:
    try:
        return metadata.version("wagate")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def refused_argument(args: Sequence[str]) -> str | None:
    """Why one of `args` cannot be taken, or None: no NUL characters, valid UTF-8 only."""
    for number, arg in enumerate(args, 1):
        if "\x00" in arg:
            return f"argument {number} holds a NUL character"
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            return f"argument {number} is not valid UTF-8"
    return None


def _json_flag(ctx: click.Context, _: click.Parameter, value: bool) -> None:
    if value:
        set_mode(ctx, "json")


def _with_json_flag(command: click.Command) -> None:
    """Give `command` (and every command under it) a `--json` flag, unless it has one."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _with_json_flag(sub)
        return
    if any("--json" in p.opts for p in command.params):
        return
    command.params.append(
        click.Option(
            ["--json"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_json_flag,
            help="JSON lines, even on a terminal.",
        )
    )


class WagateGroup(click.Group):
    """The root group: refuses unusable arguments before parsing them (exit 2) and adds
    `--json` to every command registered on it."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        problem = refused_argument(args)
        if problem:
            raise click.UsageError(problem, ctx=ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command with the libraries' own log lines silenced: the command says
        what went wrong in one line of its own."""
        quiet = [logging.getLogger(name) for name in QUIET_LOGGERS]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.CRITICAL)
        try:
            return super().invoke(ctx)
        finally:
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        _with_json_flag(cmd)
        super().add_command(cmd, name)


def options(fn: F) -> F:
    """The root command's options."""
    decorators = [
        click.version_option(
            version(), "--version", prog_name="wagate", message="%(prog)s %(version)s"
        ),
        click.option(
            "--bootstrap",
            default=None,
            help="Kafka bootstrap servers (env WAGATE_KAFKA__BOOTSTRAP or KAFKA_BOOTSTRAP; "
            "default localhost:9092).",
        ),
        click.option(
            "--topic-prefix",
            default=None,
            help="Prefix of every topic name (env WAGATE_KAFKA__TOPIC_PREFIX).",
        ),
        click.option(
            "--profile",
            envvar="WAGATE_PROFILE",
            default=None,
            metavar="FILE",
            help="NAME=VALUE lines: WAGATE_KAFKA__* (SASL, TLS CA...) and the services' URLs "
            "(env WAGATE_PROFILE). Flags and the environment win over it.",
        ),
        click.option("--json", "as_json", is_flag=True, help="JSON lines, even on a terminal."),
        click.option("--table", "as_table", is_flag=True, help="Tables, even off a terminal."),
    ]
    for decorator in reversed(decorators):
        fn = decorator(fn)
    return fn


def environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The WAGATE_KAFKA__ variables of `environ`."""
    return {k: v for k, v in environ.items() if k.startswith(ENV_PREFIX)}


def older_names(environ: Mapping[str, str]) -> dict[str, str]:
    """The older variables of `environ` (LEGACY_ENV), under their WAGATE_KAFKA__ names."""
    return {
        f"{ENV_PREFIX}{name}": environ[old] for old, name in LEGACY_ENV.items() if old in environ
    }


def setup(
    ctx: click.Context,
    *,
    bootstrap: str | None,
    topic_prefix: str | None,
    profile: str | None,
    as_json: bool,
    as_table: bool,
) -> None:
    """Gather the invocation's configuration (see `cli.config`) and its output mode."""
    if as_json and as_table:
        raise click.UsageError("give --json or --table, not both")
    if as_json or as_table:
        set_mode(ctx, "json" if as_json else "table")
    loaded = config.load_profile(profile) if profile else {}
    flags = {"bootstrap": bootstrap, "topic_prefix": topic_prefix}
    config.store(
        ctx,
        config.Config(
            profile=loaded,
            environ=environment(os.environ),
            fallback=older_names(os.environ),
            flags={k: v for k, v in flags.items() if v is not None},
        ),
    )
    ctx.default_map = {**config.default_map(loaded), **(ctx.default_map or {})}
