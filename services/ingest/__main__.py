"""`python -m services.ingest`: settings -> logging -> run; `migrate` applies its migrations."""

from services.ingest.app import MIGRATIONS, run
from services.ingest.settings import IngestSettings
from shared import logs, migrate, runtime


def main() -> None:
    if migrate.requested("ingest"):
        migrate.run("ingest", MIGRATIONS)
        return
    settings = IngestSettings()
    logs.configure(settings.log, "ingest")
    runtime.serve("ingest", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
