"""`python -m services.policy`: settings -> logging -> run."""

from services.policy.app import run
from services.policy.settings import PolicySettings
from shared import logs


def main() -> None:
    settings = PolicySettings()
    logs.configure(settings.log, "policy")
    run(settings)


if __name__ == "__main__":
    main()
