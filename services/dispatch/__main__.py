"""`python -m services.dispatch`: settings -> logging and tracing -> run."""

from services.dispatch.app import run
from services.dispatch.settings import DispatchSettings
from shared import runtime, telemetry


def main() -> None:
    settings = runtime.configured("dispatch", DispatchSettings)
    telemetry.setup(settings.tracing, "dispatch")
    runtime.serve("dispatch", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
