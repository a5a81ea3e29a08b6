"""`python -m services.<name> migrate` applies that service's migrations once and exits, against a
real PostgreSQL, reading only its own `<NAME>_POSTGRES__*` settings; other arguments are refused."""

from __future__ import annotations

import os
import subprocess
import sys

import asyncpg
import pytest

from shared import migrate
from shared.runtime import EXIT_UNAVAILABLE
from tests.conftest import ROOT

# every service with migrations (the console's included)
MIGRATING = tuple(sorted(p.parent.name for p in (ROOT / "services").glob("*/migrations")))
UNREACHABLE = "postgresql://wagate:wagate@127.0.0.1:1/none"


def run_service(service: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(service.upper() + "_")}
    return subprocess.run(
        [sys.executable, "-m", f"services.{service}", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def migrations_of(service: str) -> list[str]:
    return sorted(p.stem for p in (ROOT / "services" / service / "migrations").glob("*.sql"))


def test_every_service_with_migrations_is_checked() -> None:
    assert set(MIGRATING) == {"console", "dispatch", "ingest", "templates"}


@pytest.mark.parametrize(
    ("argv", "migrates"),
    [([], False), (["migrate"], True)],
)
def test_the_mode_comes_from_the_arguments(argv: list[str], migrates: bool) -> None:
    assert migrate.requested("ingest", argv) is migrates


@pytest.mark.parametrize("argv", [["serve"], ["migrate", "now"], ["--migrate"], [""]])
def test_other_arguments_are_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        migrate.requested("ingest", argv)
    assert exit_.value.code == migrate.EXIT_USAGE
    assert "usage: python -m services.ingest [migrate]" in capsys.readouterr().err


def test_a_service_started_with_a_wrong_argument_exits_with_usage() -> None:
    result = run_service("dispatch", "migrat", env={})
    assert result.returncode == migrate.EXIT_USAGE, result.stderr
    assert "usage: python -m services.dispatch [migrate]" in result.stderr


@pytest.mark.parametrize("service", MIGRATING)
def test_unreachable_database_exits_unavailable(service: str) -> None:
    prefix = service.upper()
    env = {f"{prefix}_POSTGRES__URL": UNREACHABLE, f"{prefix}_POSTGRES__CONNECT_TIMEOUT_S": "2"}
    result = run_service(service, "migrate", env={**env, f"{prefix}_LOG__JSON_FORMAT": "true"})
    assert result.returncode == EXIT_UNAVAILABLE, result.stderr
    assert "PostgreSQL is unreachable" in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("service", MIGRATING)
async def test_migrate_applies_every_migration_once_and_exits(
    service: str, fresh_database: str
) -> None:
    prefix = service.upper()
    # Only the database settings: a migration Job holds no other secret of the service.
    env = {f"{prefix}_POSTGRES__URL": fresh_database, f"{prefix}_LOG__JSON_FORMAT": "true"}
    first = run_service(service, "migrate", env=env)
    assert first.returncode == 0, first.stderr
    assert "migrations up to date" in first.stderr
    for version in migrations_of(service):
        assert version in first.stderr
    conn = await asyncpg.connect(fresh_database)
    try:
        rows = await conn.fetch(
            "SELECT version FROM schema_migrations WHERE service = $1 ORDER BY version", service
        )
        assert [r["version"] for r in rows] == migrations_of(service)
        others = await conn.fetchval(
            "SELECT count(*) FROM schema_migrations WHERE service <> $1", service
        )
        assert others == 0, "migrate touched another service's migrations"
        second = run_service(service, "migrate", env=env)
        assert second.returncode == 0, second.stderr
        assert '"applied": []' in second.stderr
        again = await conn.fetchval(
            "SELECT count(*) FROM schema_migrations WHERE service = $1", service
        )
        assert again == len(migrations_of(service))
    finally:
        await conn.close()


def test_settings_take_the_service_prefix() -> None:
    code = (
        "from shared.migrate import settings_for;"
        "s = settings_for('templates');"
        "print(s.postgres.url.get_secret_value(), s.postgres.max_size)"
    )
    env = {
        **os.environ,
        "TEMPLATES_POSTGRES__URL": "postgresql://t@db/templates",
        "TEMPLATES_POSTGRES__MAX_SIZE": "3",
        "INGEST_POSTGRES__URL": "postgresql://i@db/ingest",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.split() == ["postgresql://t@db/templates", "3"]
