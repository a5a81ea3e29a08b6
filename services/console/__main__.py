"""`python -m services.console`: settings (refusing public secrets) -> logs, tracing -> run; or
`migrate` its database."""

from services.console.app import MIGRATIONS, run
from services.console.settings import ConsoleSettings
from shared import migrate, runtime, telemetry


def main() -> None:
    if migrate.requested("console"):
        migrate.run("console", MIGRATIONS)
        return
    settings = runtime.configured("console", ConsoleSettings)
    telemetry.setup(settings.tracing, "console")
    runtime.serve("console", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
