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
    """Where a service listens, and what one client may hold of it (see docs/doors.md)."""

    host: str = "127.0.0.1"
    port: int = 8080
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="From a connection's opening, or the first byte of its next request, to the "
        "end of the request's headers; past it the connection is answered 408 and closed.",
    )
    body_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="To receive a request's whole body once its headers are in; past it 408.",
    )
    keepalive_timeout_s: float = Field(
        default=15.0, gt=0, description="How long an idle keep-alive connection is kept open."
    )
    max_connections: int = Field(
        default=1024,
        gt=0,
        description="Connections open at once. Past it, the one waiting longest for its request "
        "is closed to make room; when every one is being answered, the newcomer gets 503.",
    )


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


class TracingSettings(Group):
    """Where finished spans go. Neither set (the default): no tracer, no instrumentation, nothing
    recorded or sent; trace context is then not forwarded either."""

    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP base URL of a collector, e.g. http://otel-collector:4318 "
        "(spans are posted to its /v1/traces).",
    )
    otlp_headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="Headers for the collector, e.g. an API key."
    )
    otlp_timeout_s: float = Field(default=10.0, gt=0)
    sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces kept; a trace begun upstream keeps its parent's choice.",
    )
    file: str | None = Field(
        default=None,
        description="Also write every finished span here as one JSON line (tests, local runs).",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.otlp_endpoint or self.file)


DEVELOPMENT_MODE = "WAGATE_DEVELOPMENT"
"""The one variable that lets a process start with the public development secrets (`make run`
and the tests set it; a deployment never does)."""


class ServiceSettings(BaseSettings):
    """What every service's settings share: logging, tracing, the development mode, and the
    secrets check a service runs before it starts."""

    # hide_input_in_errors: a refused value may be a secret, and errors end up in logs
    model_config = SettingsConfigDict(
        env_nested_delimiter="__", frozen=True, hide_input_in_errors=True
    )
    required_secrets: ClassVar[tuple[str, ...]] = ()
    """Secret settings with no default at all: the service never starts without them."""

    log: LogSettings = LogSettings()
    tracing: TracingSettings = TracingSettings()
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
                for name, s in _secrets_in(self.in_effect(), prefix)
                if s.get_secret_value() in public
            }
            refused += [f"{name} has its public development default" for name in sorted(held)]
        return refused

    def public_settings(self) -> list[str]:
        """The secret settings in effect whose default is a public development value: a
        deployment gives each from a Secret (deploy-check), so none is left in the source."""
        prefix = self.model_config.get("env_prefix", "")
        effect = self.in_effect()
        defaults = {k: v for k, v in _defaults(type(self)).items() if k in effect}
        public = {name for name, s in _secrets_in(defaults, prefix) if s.get_secret_value()}
        return sorted(public & {name for name, _ in _secrets_in(effect, prefix)})

    def in_effect(self) -> dict[str, object]:
        """The settings this process acts on, by field: a service leaves out one that another
        replaces (a file of tokens instead of the tokens' own setting, say)."""
        return dict(self)


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
    elif isinstance(value, list | tuple):  # a list is set as one value: its name covers all
        for item in value:
            yield from ((name, secret) for _, secret in _secrets(item, name))
