"""`python -m services.templates`: settings -> logging -> run."""

from services.templates.app import run
from services.templates.settings import TemplatesSettings
from shared import runtime


def main() -> None:
    settings = runtime.configured("templates", TemplatesSettings)
    runtime.serve("templates", lambda stop: run(settings, stop))


if __name__ == "__main__":
    main()
