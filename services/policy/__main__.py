"""`python -m services.policy`: settings -> logging -> topics -> faust worker."""

import asyncio
import sys

import faust
from aiokafka.errors import KafkaConnectionError

from services.policy.app import create_app
from services.policy.settings import PolicySettings
from services.policy.tables import changelog_topics
from shared import logs
from shared.messaging import ensure_topics
from shared.runtime import EXIT_UNAVAILABLE
from shared.topics import ALL_TOPICS

log = logs.get(__name__)


async def _create_topics(settings: PolicySettings) -> None:
    await ensure_topics(settings.kafka, ALL_TOPICS)
    unprefixed = settings.kafka.model_copy(update={"topic_prefix": ""})
    await ensure_topics(unprefixed, changelog_topics(settings.app_id))


def main() -> None:
    settings = PolicySettings()
    logs.configure(settings.log, "policy")
    try:
        asyncio.run(_create_topics(settings))
    except (KafkaConnectionError, OSError) as exc:
        log.error("cannot start: Kafka is unreachable", service="policy", reason=str(exc))
        sys.exit(EXIT_UNAVAILABLE)
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=settings.log.level.lower(), quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
