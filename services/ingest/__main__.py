"""`python -m services.ingest`: settings -> logging -> run."""

from services.ingest.app import run
from services.ingest.settings import IngestSettings
from shared import runtime


def main() -> None:
    settings = runtime.configured("ingest", IngestSettings)
    runtime.serve("ingest", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
