"""`python -m services.console`: settings -> logging -> run."""

from services.console.app import run
from services.console.settings import ConsoleSettings
from shared import logs, runtime


def main() -> None:
    settings = ConsoleSettings()
    logs.configure(settings.log, "console")
    runtime.serve("console", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
