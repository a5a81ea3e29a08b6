"""`python -m services.sandbox`: settings -> logging -> run."""

from services.sandbox.app import run
from services.sandbox.settings import SandboxSettings
from shared import runtime


def main() -> None:
    settings = runtime.configured("sandbox", SandboxSettings)
    runtime.serve("sandbox", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
