"""Console settings (env prefix `CONSOLE_`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, TypeAdapter, model_validator
from pydantic_settings import SettingsConfigDict

from services.console.access import Role, Token, TrustedHeader
from shared.settings import HttpSettings, KafkaSettings, PostgresSettings, ServiceSettings

# public, like every development default: refused outside development mode (ServiceSettings)
DEVELOPMENT_TOKEN = "wagate-console-dev"  # noqa: S105


class TokenSetting(BaseModel):
    """One accepted token (`CONSOLE_TOKENS='[{"name": "ana", "token": "...", "role":
    "operator"}]'`, from a Secret): several may hold at once, so one can be rotated."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    token: SecretStr
    role: Role = Role.VIEWER

    @model_validator(mode="after")
    def _long_enough(self) -> TokenSetting:
        if len(self.token.get_secret_value()) < 16:
            raise ValueError(f"token {self.name!r} is shorter than 16 characters")
        return self


TOKEN_LIST = TypeAdapter(list[TokenSetting])


def parse_tokens(text: str) -> tuple[Token, ...]:
    """Tokens from JSON text (a list of `{"name", "token", "role"}`); raises ValueError."""
    return tuple(Token(t.name, t.token, t.role) for t in TOKEN_LIST.validate_json(text))


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CONSOLE_", env_nested_delimiter="__", frozen=True)

    http: HttpSettings = HttpSettings(port=8085)
    kafka: KafkaSettings = KafkaSettings()
    postgres: PostgresSettings = PostgresSettings()
    group: str = Field(default="wagate-console", description="Kafka consumer group.")
    tokens: list[TokenSetting] = Field(
        default_factory=lambda: [
            TokenSetting(name="dev", token=SecretStr(DEVELOPMENT_TOKEN), role=Role.OPERATOR)
        ],
        description="Accepted tokens with their roles; the default is public, for development "
        "mode only.",
    )
    tokens_file: str | None = Field(
        default=None,
        description="A JSON file of tokens (a mounted Secret) used instead of `tokens`, read "
        "again whenever it changes, so tokens rotate without a restart.",
    )
    trusted_user_header: str | None = Field(
        default=None,
        description="Trust this header (e.g. X-Forwarded-User) to name the user: only behind "
        "an authenticating proxy that sets it and strips it from clients.",
    )
    trusted_operators: list[str] = Field(
        default_factory=list, description="Users named by the trusted header who are operators."
    )
    session_key: SecretStr | None = Field(
        default=None, description="Signs CSRF tokens of header-authenticated users."
    )
    session_max_age_s: float = Field(default=12 * 3600, gt=0)
    cookie_secure: bool = Field(default=False, description="Send cookies over HTTPS only.")
    retention_days: float = Field(default=30, gt=0, description="Rows older than this go.")
    retention_interval_s: float = Field(default=3600, gt=0)
    poll_ms: int = Field(default=200, ge=10, description="How long a fetch waits for records.")
    live_interval_s: float = Field(default=1.0, gt=0, description="How often live views look.")
    max_live_views: int = Field(default=200, ge=1)
    page_size: int = Field(default=50, ge=1, le=500)
    sandbox_url: str = Field(
        default="http://127.0.0.1:8090",
        description="The sandbox's control API for the chat pages; empty turns chat off.",
    )

    @model_validator(mode="after")
    def _header_needs_key(self) -> ConsoleSettings:
        if self.trusted_user_header and self.session_key is None:
            raise ValueError("trusted_user_header needs session_key (it signs CSRF tokens)")
        if not self.tokens and not self.trusted_user_header and not self.tokens_file:
            raise ValueError("no way in: set tokens or trusted_user_header")
        return self

    def in_effect(self) -> dict[str, object]:
        settings = super().in_effect()
        if self.tokens_file:  # the file's tokens are the ones accepted, `tokens` is not read
            del settings["tokens"]
        return settings

    def token_list(self) -> tuple[Token, ...]:
        return tuple(Token(t.name, t.token, t.role) for t in self.tokens)

    def trusted(self) -> TrustedHeader | None:
        if not self.trusted_user_header or self.session_key is None:
            return None
        return TrustedHeader(
            self.trusted_user_header, self.session_key, frozenset(self.trusted_operators)
        )
