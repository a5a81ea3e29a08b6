"""`python -m services.templates`: settings -> logging -> run; `migrate` applies its migrations."""

from services.templates.app import MIGRATIONS, run
from services.templates.settings import TemplatesSettings
from shared import logs, migrate, runtime


def main() -> None:
    if migrate.requested("templates"):
        migrate.run("templates", MIGRATIONS)
        return
    settings = TemplatesSettings()
    logs.configure(settings.log, "templates")
    runtime.serve("templates", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
