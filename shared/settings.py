"""Settings groups shared by every service; each service nests them in its own BaseSettings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

GRAPH_API_VERSION = "v26.0"
"""The Graph API version every service calls and the sandbox serves by default (rules §9:
v26.0 was released on 2026-07-29)."""


class Group(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(Group):
    bootstrap: str = "localhost:9092"
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: str | None = Field(default=None, description="CA bundle to verify the brokers.")
    client_id: str = "wagate"
    request_timeout_ms: int = 30_000
    linger_ms: int = 5
    max_batch: int = 500
    topic_prefix: str = Field(
        default="", description="Prepended to every topic name (isolates tests and tenants)."
    )

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"


class PostgresSettings(Group):
    url: SecretStr = SecretStr("postgresql://wagate:wagate@127.0.0.1:55432/wagate")
    min_size: int = 1
    max_size: int = 10
    connect_timeout_s: float = 10.0


class LogSettings(Group):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_format: bool | None = Field(
        default=None, description="JSON lines; by default only when stderr is not a terminal."
    )


class HttpSettings(Group):
    host: str = "127.0.0.1"
    port: int = 8080


class CloudApiSettings(Group):
    """Where a service reaches the Cloud API: the sandbox by default, Graph API in production.
    Services extend it with what only they need (dispatch's per-number tokens, say)."""

    base_url: str = "http://127.0.0.1:8090"
    version: str = GRAPH_API_VERSION
    # the sandbox's public token: refused outside development mode (ServiceSettings.refusals)
    access_token: SecretStr = SecretStr("sandbox-token")
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 20.0

    @property
    def root(self) -> str:
        """The versioned base URL requests are made under."""
        return f"{self.base_url.rstrip('/')}/{self.version}"


DEVELOPMENT_MODE = "WAGATE_DEVELOPMENT"
"""The one variable that lets a process start with the public development secrets (`make run`
and the tests set it; a deployment never does)."""


class ServiceSettings(BaseSettings):
    """What every service's settings share: logging, the development mode, and the secrets
    check a service runs before it starts."""

    # hide_input_in_errors: a refused value may be a secret, and errors end up in logs
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", frozen=True, hide_input_in_errors=True
    )
    required_secrets: ClassVar[tuple[str, ...]] = ()
    """Secret settings with no default at all: the service never starts without them."""

    log: LogSettings = LogSettings()
    development: bool = Field(
        default=False,
        validation_alias=DEVELOPMENT_MODE,
        description="Accept the public development secrets (local runs and tests only).",
    )

    def refusals(self) -> list[str]:
        """Why this process must not start: each required secret not set, and (outside
        development mode) each secret setting holding a public development default."""
        prefix = self.model_config.get("env_prefix", "")
        refused = [
            f"{prefix}{name.upper()} is not set"
            for name in self.required_secrets
            if not getattr(self, name)
        ]
        if not self.development:
            public = {s.get_secret_value() for _, s in _secrets_in(_defaults(type(self)), prefix)}
            held = {
                name
                for name, s in _secrets_in(dict(self), prefix)
                if s.get_secret_value() in public
            }
            refused += [f"{name} has its public development default" for name in sorted(held)]
        return refused


def _defaults(cls: type[BaseModel]) -> dict[str, object]:
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in cls.model_fields.items()
        if not field.is_required()
    }


def _secrets_in(fields: Mapping[str, object], prefix: str) -> Iterator[tuple[str, SecretStr]]:
    """Every secret among `fields`, with the environment variable that sets it."""
    for field, value in fields.items():
        yield from _secrets(value, f"{prefix}{field.upper()}")


def _secrets(value: object, name: str) -> Iterator[tuple[str, SecretStr]]:
    if isinstance(value, SecretStr):
        yield name, value
    elif isinstance(value, BaseModel):
        yield from _secrets_in(dict(value), f"{name}__")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _secrets(item, f"{name}__{key}")
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _secrets(item, name)
