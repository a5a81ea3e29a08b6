"""`python -m services.sandbox`: settings -> logging and tracing -> run."""

from services.sandbox.app import run
from services.sandbox.settings import SandboxSettings
from shared import runtime, telemetry


def main() -> None:
    settings = runtime.configured("sandbox", SandboxSettings)
    telemetry.setup(settings.tracing, "sandbox")
    runtime.serve("sandbox", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
