"""`python -m services.dispatch`: settings -> logs, tracing -> run; or `migrate` its database."""

from services.dispatch.app import MIGRATIONS, run
from services.dispatch.settings import DispatchSettings
from shared import logs, migrate, runtime, telemetry


def main() -> None:
    if migrate.requested("dispatch"):
        migrate.run("dispatch", MIGRATIONS)
        return
    settings = DispatchSettings()
    logs.configure(settings.log, "dispatch")
    telemetry.setup(settings.tracing, "dispatch")
    runtime.serve("dispatch", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
