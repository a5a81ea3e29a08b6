"""`python -m services.ingest`: settings -> logging and tracing -> run."""

from services.ingest.app import run
from services.ingest.settings import IngestSettings
from shared import runtime, telemetry


def main() -> None:
    settings = runtime.configured("ingest", IngestSettings)
    telemetry.setup(settings.tracing, "ingest")
    runtime.serve("ingest", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
