"""`python -m services.ingest`: settings (refusing public secrets) -> logs, tracing -> run; or
`migrate` its database."""

from services.ingest.app import MIGRATIONS, run
from services.ingest.settings import IngestSettings
from shared import migrate, runtime, telemetry


def main() -> None:
    if migrate.requested("ingest"):
        migrate.run("ingest", MIGRATIONS)
        return
    settings = runtime.configured("ingest", IngestSettings)
    telemetry.setup(settings.tracing, "ingest")
    runtime.serve("ingest", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
