"""No public secret in production: every service's settings refuse the development defaults of
their secrets unless development mode is on, the sealing keys have no default at all, and a
service started with such settings exits 78 with one line naming every offending setting."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from services.console.settings import DEVELOPMENT_TOKEN, ConsoleSettings, TokenSetting
from services.dispatch.settings import DispatchSettings, PhoneNumber
from services.ingest.settings import IngestSettings
from services.policy.settings import PolicySettings
from services.sandbox.settings import SandboxSettings
from services.templates.settings import TemplatesSettings
from shared import runtime
from shared.settings import DEVELOPMENT_MODE, PostgresSettings, ServiceSettings
from tests.conftest import ROOT, SEALING_KEY, free_port

OWN_DATABASE = PostgresSettings(url=SecretStr("postgresql://gw:s3cret@db.internal:5432/wagate"))
OWN_TOKEN = {"access_token": SecretStr("EAAG-own-system-user-token")}
KEYS = [SEALING_KEY]

# service -> (settings class, what it refuses at its defaults, its own secrets)
SERVICES: dict[str, tuple[type[ServiceSettings], list[str], dict[str, Any]]] = {
    "ingest": (
        IngestSettings,
        [
            "INGEST_APP_SECRETS has its public development default",
            "INGEST_POSTGRES__URL has its public development default",
            "INGEST_VERIFY_TOKEN has its public development default",
        ],
        {
            "app_secrets": [SecretStr("own-app-secret")],
            "verify_token": SecretStr("own-verify-token"),
            "postgres": OWN_DATABASE,
        },
    ),
    "templates": (
        TemplatesSettings,
        [
            "TEMPLATES_API_KEYS has its public development default",
            "TEMPLATES_CLOUD_API__ACCESS_TOKEN has its public development default",
            "TEMPLATES_POSTGRES__URL has its public development default",
        ],
        {"api_keys": [SecretStr("own-key")], "cloud_api": OWN_TOKEN, "postgres": OWN_DATABASE},
    ),
    "policy": (PolicySettings, ["POLICY_SEALING_KEYS is not set"], {"sealing_keys": KEYS}),
    "dispatch": (
        DispatchSettings,
        [
            "DISPATCH_SEALING_KEYS is not set",
            "DISPATCH_CLOUD_API__ACCESS_TOKEN has its public development default",
            "DISPATCH_POSTGRES__URL has its public development default",
        ],
        {"sealing_keys": KEYS, "cloud_api": OWN_TOKEN, "postgres": OWN_DATABASE},
    ),
    "sandbox": (
        SandboxSettings,
        [
            "SANDBOX_ACCESS_TOKENS has its public development default",
            "SANDBOX_APP_SECRET has its public development default",
        ],
        {"access_tokens": [SecretStr("own-token")], "app_secret": SecretStr("own-secret")},
    ),
    "console": (
        ConsoleSettings,
        [
            "CONSOLE_POSTGRES__URL has its public development default",
            "CONSOLE_TOKENS has its public development default",
        ],
        {
            "tokens": [TokenSetting(name="ana", token=SecretStr("own-console-token-0123"))],
            "postgres": OWN_DATABASE,
        },
    ),
}
NAMES = list(SERVICES)


def _settings(service: str, development: bool, **values: Any) -> ServiceSettings:
    cls = SERVICES[service][0]
    return cls(**{DEVELOPMENT_MODE: development}, **values)


def _clean_env(**extra: str) -> dict[str, str]:
    """The environment of a process with no wagate setting but `extra`."""
    prefixes = (*(f"{s.upper()}_" for s in SERVICES), DEVELOPMENT_MODE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    return {**env, "PYTHONUNBUFFERED": "1", **extra}


@pytest.mark.parametrize("service", NAMES)
def test_the_defaults_are_refused_outside_development_mode(service: str) -> None:
    assert _settings(service, development=False).refusals() == SERVICES[service][1]


@pytest.mark.parametrize("service", NAMES)
def test_development_mode_accepts_the_defaults_but_never_a_missing_sealing_key(
    service: str,
) -> None:
    missing = [r for r in SERVICES[service][1] if r.endswith("is not set")]
    assert _settings(service, development=True).refusals() == missing
    own_keys = {k: v for k, v in SERVICES[service][2].items() if k == "sealing_keys"}
    assert _settings(service, development=True, **own_keys).refusals() == []


@pytest.mark.parametrize("service", NAMES)
def test_own_secrets_start_outside_development_mode(service: str) -> None:
    assert _settings(service, development=False, **SERVICES[service][2]).refusals() == []


@pytest.mark.parametrize("service", NAMES)
def test_each_secret_left_at_its_default_is_named_alone(service: str) -> None:
    own = SERVICES[service][2]
    for name in own:
        if name == "sealing_keys":
            continue
        values = {k: v for k, v in own.items() if k != name}
        refused = _settings(service, development=False, **values).refusals()
        assert len(refused) == 1 and refused[0].startswith(f"{service.upper()}_{name.upper()}")


def test_a_public_default_kept_beside_a_new_secret_during_rotation_is_refused() -> None:
    values = dict(SERVICES["ingest"][2], app_secrets=["new-secret", "sandbox-app-secret"])
    assert _settings("ingest", development=False, **values).refusals() == [
        "INGEST_APP_SECRETS has its public development default"
    ]


def test_the_console_development_token_kept_beside_an_own_one_is_refused() -> None:
    own = TokenSetting(name="ana", token=SecretStr("own-console-token-0123"))
    public = TokenSetting(name="dev", token=SecretStr(DEVELOPMENT_TOKEN))
    settings = _settings("console", False, postgres=OWN_DATABASE, tokens=[own, public])
    assert settings.refusals() == ["CONSOLE_TOKENS has its public development default"]


def test_a_console_reading_its_tokens_from_a_file_is_not_held_to_the_unused_setting() -> None:
    settings = _settings("console", False, postgres=OWN_DATABASE, tokens_file="/run/tokens.json")
    assert settings.refusals() == [] and settings.public_settings() == ["CONSOLE_POSTGRES__URL"]
    assert _settings("console", False, postgres=OWN_DATABASE).public_settings() == [
        "CONSOLE_POSTGRES__URL",
        "CONSOLE_TOKENS",
    ]


def test_a_number_given_the_sandbox_token_is_refused() -> None:
    numbers = {"106540352242922": PhoneNumber(access_token=SecretStr("sandbox-token"))}
    values = dict(SERVICES["dispatch"][2], numbers=numbers)
    assert _settings("dispatch", development=False, **values).refusals() == [
        "DISPATCH_NUMBERS__106540352242922__ACCESS_TOKEN has its public development default"
    ]


@pytest.mark.parametrize("cls", [PolicySettings, DispatchSettings])
@pytest.mark.parametrize("key", ["", "short", "x" * 44, "é" * 43 + "="])
def test_a_sealing_key_that_is_no_fernet_key_is_an_error_that_hides_it(
    cls: type[ServiceSettings], key: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        cls(sealing_keys=[SEALING_KEY.get_secret_value(), key])
    message = str(raised.value)
    assert "sealing key 2 of 2 is not a Fernet key" in message
    assert (key or "''") not in message.replace("sealing_keys", "")
    assert SEALING_KEY.get_secret_value() not in message


def test_the_source_holds_no_sealing_key() -> None:
    assert PolicySettings().sealing_keys == [] and DispatchSettings().sealing_keys == []


def _start(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"services.{service}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("service", NAMES)
def test_a_service_with_default_secrets_exits_78_naming_every_one(service: str) -> None:
    result = _start(service, _clean_env(**{f"{service.upper()}_LOG__JSON_FORMAT": "true"}))
    assert result.returncode == runtime.EXIT_CONFIG == 78, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = json.loads(lines[0])
    assert line["event"].startswith("cannot start: secrets missing or left at their public")
    assert line["service"] == service and line["level"] == "error"
    assert line["settings"] == SERVICES[service][1]
    assert DEVELOPMENT_MODE in line["hint"]
    publics = ("sandbox-token", "sandbox-app-secret", "wagate-dev-key", DEVELOPMENT_TOKEN)
    for public in (*publics, "postgresql://"):
        assert public not in result.stderr + result.stdout


def test_development_mode_does_not_make_up_a_sealing_key() -> None:
    result = _start("policy", _clean_env(**{DEVELOPMENT_MODE: "true"}))
    assert result.returncode == 78
    assert "POLICY_SEALING_KEYS is not set" in result.stderr


def test_an_invalid_setting_exits_78_naming_it_without_its_value() -> None:
    env = _clean_env(
        DISPATCH_LOG__JSON_FORMAT="true",
        DISPATCH_HTTP__PORT="eighty",
        DISPATCH_SEALING_KEYS='["not-a-key-but-secret"]',
    )
    result = _start("dispatch", env)
    assert result.returncode == 78
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["event"] == "cannot start: invalid settings"
    names = [problem.split(":")[0] for problem in line["settings"]]
    assert names == ["DISPATCH_HTTP__PORT", "DISPATCH_SEALING_KEYS"]
    assert "not-a-key-but-secret" not in result.stderr and "eighty" not in result.stderr


def test_in_development_mode_the_defaults_start() -> None:
    port = free_port()
    env = _clean_env(
        **{DEVELOPMENT_MODE: "true", "SANDBOX_HTTP__PORT": str(port), "SANDBOX_WEBHOOK_URL": ""}
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.sandbox"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


def _real_app_section() -> tuple[str, str]:
    """The README's "real Meta app" steps, and its rotation table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Using a real Meta app instead of the sandbox", 1)[1]
    section = section.split("\n## ", 1)[0]
    steps, rotation = section.split("Rotating each secret:", 1)
    return steps, rotation


def _named(name: str, prefix: str, text: str) -> bool:
    """`name` is in `text`, in full or as `*_<rest>` (the same setting of every service)."""
    rest = name.removeprefix(prefix)
    return f"`{name}" in text or f"`*_{rest}" in text


# the sandbox is never deployed with a real app ("Do not run the sandbox")
@pytest.mark.parametrize("service", [s for s in NAMES if s != "sandbox"])
def test_the_readme_names_every_secret_and_how_to_rotate_it(service: str) -> None:
    cls = SERVICES[service][0]
    prefix = cls.model_config.get("env_prefix", "")
    settings = _settings(service, development=True)
    secrets = [*settings.public_settings(), *(f"{prefix}{n.upper()}" for n in cls.required_secrets)]
    assert secrets
    steps, rotation = _real_app_section()
    assert [s for s in secrets if not _named(s, prefix, steps)] == []
    assert [s for s in secrets if not _named(s, prefix, rotation)] == []
