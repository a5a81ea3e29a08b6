"""`python -m services.policy`: settings -> logging and tracing -> run."""

from services.policy.app import run
from services.policy.settings import PolicySettings
from shared import runtime, telemetry


def main() -> None:
    settings = runtime.configured("policy", PolicySettings)
    telemetry.setup(settings.tracing, "policy")
    run(settings)


if __name__ == "__main__":
    main()
