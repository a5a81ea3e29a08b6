"""`python -m services.console`: settings -> logging -> run; `migrate` applies its migrations."""

from services.console.app import MIGRATIONS, run
from services.console.settings import ConsoleSettings
from shared import logs, migrate, runtime


def main() -> None:
    if migrate.requested("console"):
        migrate.run("console", MIGRATIONS)
        return
    settings = ConsoleSettings()
    logs.configure(settings.log, "console")
    runtime.serve("console", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
