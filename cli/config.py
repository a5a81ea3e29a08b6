"""Where the `wagate` command finds its servers: flags, then the environment, then a profile
file (`--profile FILE` or `WAGATE_PROFILE`), then the older variable names (`KAFKA_BOOTSTRAP`,
`WAGATE_TOPIC_PREFIX`), then the defaults.

Kafka settings use the names the services use under the CLI's prefix (`WAGATE_KAFKA__BOOTSTRAP`,
`__SECURITY_PROTOCOL`, `__SASL_MECHANISM`, `__SASL_USERNAME`, `__SASL_PASSWORD`,
`__SSL_CAFILE`, `__TOPIC_PREFIX`, ...); a profile holds the same `NAME=VALUE` lines, and may
also name the services' URLs and the templates API key.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import update_wrapper
from pathlib import Path
from typing import Any, TypeVar

import click

from cli.params import bootstrap_problem, read_text, topic_prefix_problem
from shared.client import ENV_PREFIX, kafka_settings_from
from shared.settings import KafkaSettings

CONFIG_KEY = "wagate.config"
CLIENT_ID = "wagate-cli"
SERVICE_URLS: dict[str, tuple[str, str]] = {
    "WAGATE_TEMPLATES_URL": ("templates", "url"),
    "WAGATE_TEMPLATES_API_KEY": ("templates", "api_key"),
    "WAGATE_POLICY_URL": ("window", "policy_url"),
    "WAGATE_SANDBOX_URL": ("sandbox", "url"),
    "WAGATE_DISPATCH_URL": ("media", "url"),
    "WAGATE_MEDIA_API_KEY": ("media", "api_key"),
}
"""Profile names that set a command group's option (`group`, `option`); the same names as
those options' environment variables, which win over the profile."""
SECRETS = (f"{ENV_PREFIX}SASL_PASSWORD", "WAGATE_TEMPLATES_API_KEY", "WAGATE_MEDIA_API_KEY")
_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
F = TypeVar("F", bound=Callable[..., Any])


class ProfileError(click.UsageError):
    """A profile file that cannot be read as `NAME=VALUE` lines of known names."""


def parse_profile(text: str, where: str) -> dict[str, str]:
    """`NAME=VALUE` lines (`#` comments, blank lines, an optional `export `, values optionally
    in matching quotes); only WAGATE_KAFKA__* and the service URL names are known."""
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ").lstrip()
        name, sep, value = stripped.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not _NAME.fullmatch(name):
            raise ProfileError(f"{where}:{number}: expected NAME=VALUE")
        if name not in SERVICE_URLS and not name.startswith(ENV_PREFIX):
            known = ", ".join([f"{ENV_PREFIX}*", *SERVICE_URLS])
            raise ProfileError(f"{where}:{number}: {name} is not a wagate setting ({known})")
        if name in out:
            raise ProfileError(f"{where}:{number}: {name} is set twice")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if "\x00" in value:
            raise ProfileError(f"{where}:{number}: {name} holds a NUL character")
        out[name] = value
    return out


def load_profile(path: str) -> dict[str, str]:
    """The profile at `path`; warns on stderr when others may read the secrets it holds."""
    values = parse_profile(read_text(path, "profile"), path)
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        mode = 0
    if mode & (stat.S_IRWXG | stat.S_IRWXO) and any(values.get(s) for s in SECRETS):
        click.echo(f"warning: {path} holds a secret and others may read it (chmod 600)", err=True)
    return values


def default_map(profile: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The command groups' option defaults a profile sets (click's default map)."""
    out: dict[str, dict[str, str]] = {}
    for name, (group, option) in SERVICE_URLS.items():
        if name in profile:
            out.setdefault(group, {})[option] = profile[name]
    return out


@dataclass(frozen=True)
class Config:
    """What the root command gathered; Kafka settings are checked when a command needs them,
    so a broken Kafka profile does not stop `wagate templates ...`."""

    profile: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, str] = field(default_factory=dict)
    fallback: Mapping[str, str] = field(default_factory=dict)
    """Values from the older variable names (`KAFKA_BOOTSTRAP`), below everything else."""

    def kafka(self) -> KafkaSettings:
        """The Kafka settings: flags over environment over profile over the older names; a
        bad value exits 2."""
        merged = {
            **self.fallback,
            **{k: v for k, v in self.profile.items() if k.startswith(ENV_PREFIX)},
            **{k: v for k, v in self.environ.items() if k.startswith(ENV_PREFIX)},
        }
        for name, value in merged.items():
            if "\x00" in value or not value.isprintable():
                raise click.UsageError(
                    f"{name} holds a control character or bytes that are not UTF-8"
                )
        try:
            settings = kafka_settings_from(merged, client_id=CLIENT_ID, **self.flags)
        except ValueError as exc:
            raise click.UsageError(f"Kafka settings (environment or profile): {exc}") from exc
        problem = bootstrap_problem(settings.bootstrap) or _cafile_problem(settings)
        prefix = topic_prefix_problem(settings.topic_prefix)
        if problem or prefix:
            raise click.UsageError(f"Kafka settings: {problem or 'topic prefix: ' + str(prefix)}")
        return settings


def _cafile_problem(settings: KafkaSettings) -> str | None:
    cafile = settings.ssl_cafile
    if cafile is not None and not os.path.isfile(cafile):
        return f"{ENV_PREFIX}SSL_CAFILE {cafile!r} is not a readable file"
    return None


class Unusable:
    """Kafka settings that cannot work, as `ctx.obj` for commands taking them with
    `click.pass_obj`: the first use raises the usage error that says why."""

    def __init__(self, error: click.UsageError) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        raise self._error


def store(ctx: click.Context, config: Config) -> None:
    """Keep the configuration for the commands; `ctx.obj` is the Kafka settings."""
    ctx.meta[CONFIG_KEY] = config
    try:
        ctx.obj = config.kafka()
    except click.UsageError as exc:
        ctx.obj = Unusable(exc)


def kafka_settings(ctx: click.Context) -> KafkaSettings:
    """This invocation's Kafka settings (the defaults when no root command gathered any)."""
    config = ctx.meta.get(CONFIG_KEY)
    return (config if isinstance(config, Config) else Config()).kafka()


def pass_kafka(fn: F) -> F:
    """Hand the command its Kafka settings as the first argument (like `click.pass_obj`)."""

    @click.pass_context
    def with_settings(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        return ctx.invoke(fn, kafka_settings(ctx), *args, **kwargs)

    return update_wrapper(with_settings, fn)  # type: ignore[return-value]
