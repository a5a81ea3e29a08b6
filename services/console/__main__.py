"""`python -m services.console`: settings -> logging and tracing -> run."""

from services.console.app import run
from services.console.settings import ConsoleSettings
from shared import runtime, telemetry


def main() -> None:
    settings = runtime.configured("console", ConsoleSettings)
    telemetry.setup(settings.tracing, "console")
    runtime.serve("console", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
