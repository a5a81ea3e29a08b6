"""`python -m services.dispatch`: settings -> logging -> run."""

from services.dispatch.app import run
from services.dispatch.settings import DispatchSettings
from shared import runtime


def main() -> None:
    settings = runtime.configured("dispatch", DispatchSettings)
    runtime.serve("dispatch", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
