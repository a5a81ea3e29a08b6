"""`python -m services.console`: settings (refusing public secrets) and the token file
(refusing one that cannot be used, exit 78 before connecting anywhere) -> logs, tracing ->
run; or `migrate` its database."""

import sys

from services.console.app import MIGRATIONS, run, token_source
from services.console.settings import ConsoleSettings
from shared import logs, migrate, runtime, telemetry
from shared.errors import StartupError

log = logs.get(__name__)


def main() -> None:
    if migrate.requested("console"):
        migrate.run("console", MIGRATIONS)
        return
    settings = runtime.configured("console", ConsoleSettings)
    try:
        tokens = token_source(settings)
    except StartupError as exc:
        log.error("cannot start: invalid settings", service="console", reason=str(exc))
        sys.exit(runtime.EXIT_CONFIG)
    telemetry.setup(settings.tracing, "console")
    runtime.serve("console", lambda stop: run(settings, stop, tokens), settings.drain_s)


if __name__ == "__main__":
    main()
