"""Settings groups shared by every service; each service nests them in its own BaseSettings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

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
