"""The dead-letter topic's headers, said once: every consumer that gives up on a record (the
consume loop, policy's agents, dispatch) builds them here, and the CLI reads them by name."""

from __future__ import annotations

REASON = "wagate-reason"
SOURCE_TOPIC = "wagate-source-topic"
SOURCE_PARTITION = "wagate-source-partition"
SOURCE_OFFSET = "wagate-source-offset"
CONSUMER_GROUP = "wagate-consumer-group"
INTENT_ID = "wagate-intent-id"
REASON_MAX = 1000  # characters of the reason kept in its header


def headers(
    reason: str,
    group: str,
    *,
    topic: str | None = None,
    partition: int | None = None,
    offset: int | None = None,
    intent_id: str | None = None,
) -> list[tuple[str, bytes]]:
    """The headers of one dead letter: why, who gave up, and where the record came from."""
    out = [(REASON, reason[:REASON_MAX].encode())]
    if topic is not None:
        out.append((SOURCE_TOPIC, topic.encode()))
    if partition is not None:
        out.append((SOURCE_PARTITION, str(partition).encode()))
    if offset is not None:
        out.append((SOURCE_OFFSET, str(offset).encode()))
    if intent_id is not None:
        out.append((INTENT_ID, intent_id.encode()))
    out.append((CONSUMER_GROUP, group.encode()))
    return out
