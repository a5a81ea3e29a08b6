"""`python -m services.<name> migrate`: apply one service's database migrations and exit.

A Kubernetes Job runs it once before the service's pods roll (deploy/k8s/base/migrations.yaml).
It reads only the service's `<NAME>_POSTGRES__*` and `<NAME>_LOG__*` settings, so the Job needs
the database secret and nothing else. Exit codes: 0 done, 69 database unreachable, 64 usage.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import db, logs, runtime
from shared.settings import LogSettings, PostgresSettings

COMMAND = "migrate"
EXIT_USAGE = 64  # sysexits EX_USAGE
log = logs.get(__name__)


class MigrationSettings(BaseSettings):
    """The part of a service's settings a migration needs; built with the service's prefix."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", frozen=True)

    postgres: PostgresSettings = PostgresSettings()
    log: LogSettings = LogSettings()


def settings_for(service: str) -> MigrationSettings:
    """The migration settings of `service` from its environment (`INGEST_POSTGRES__URL`...)."""
    return MigrationSettings(_env_prefix=f"{service.upper()}_")


def requested(service: str, argv: Sequence[str] | None = None) -> bool:
    """True for `migrate`, False for no argument (serve); anything else exits with usage."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        return False
    if args == [COMMAND]:
        return True
    print(f"usage: python -m services.{service} [{COMMAND}]", file=sys.stderr)
    sys.exit(EXIT_USAGE)


async def apply(settings: PostgresSettings, service: str, folder: Path) -> list[str]:
    """Apply the pending migrations over one connection; returns the versions applied."""
    pool = await db.create_pool(settings.model_copy(update={"min_size": 1, "max_size": 1}))
    try:
        applied = await db.migrate(pool, service, folder)
    finally:
        await pool.close()
    log.info("migrations up to date", service=service, applied=applied)
    return applied


def run(service: str, folder: Path) -> None:
    """The `migrate` mode of a service's `__main__`: configure logs, migrate, exit."""
    settings = settings_for(service)
    logs.configure(settings.log, service)

    async def main(_stop: object) -> None:
        await apply(settings.postgres, service, folder)

    runtime.serve(service, main)
