"""`python -m services.templates`: settings -> logging and tracing -> run."""

from services.templates.app import run
from services.templates.settings import TemplatesSettings
from shared import runtime, telemetry


def main() -> None:
    settings = runtime.configured("templates", TemplatesSettings)
    telemetry.setup(settings.tracing, "templates")
    runtime.serve("templates", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
