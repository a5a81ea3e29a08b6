"""`python -m services.dispatch`: settings (refusing public secrets) -> logs, tracing -> run; or
`migrate` its database."""

from services.dispatch.app import MIGRATIONS, run
from services.dispatch.settings import DispatchSettings
from shared import migrate, runtime, telemetry


def main() -> None:
    if migrate.requested("dispatch"):
        migrate.run("dispatch", MIGRATIONS)
        return
    settings = runtime.configured("dispatch", DispatchSettings)
    telemetry.setup(settings.tracing, "dispatch")
    runtime.serve("dispatch", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
