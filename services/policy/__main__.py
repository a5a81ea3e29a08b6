"""`python -m services.policy`: settings -> logging -> run."""

from services.policy.app import run
from services.policy.settings import PolicySettings
from shared import runtime


def main() -> None:
    settings = runtime.configured("policy", PolicySettings)
    run(settings)


if __name__ == "__main__":
    main()
