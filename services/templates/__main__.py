"""`python -m services.templates`: settings (refusing public secrets) -> logs, tracing -> run; or
`migrate` its database."""

from services.templates.app import MIGRATIONS, run
from services.templates.settings import TemplatesSettings
from shared import migrate, runtime, telemetry


def main() -> None:
    if migrate.requested("templates"):
        migrate.run("templates", MIGRATIONS)
        return
    settings = runtime.configured("templates", TemplatesSettings)
    telemetry.setup(settings.tracing, "templates")
    runtime.serve("templates", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
