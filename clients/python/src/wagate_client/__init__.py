"""wagate's Python client: produce outbound intents, follow their delivery updates.

    from wagate_client import KafkaSettings, OutboundIntentSubmitted, TextContent, WagateClient

The models are the contract's own (`wagate_client.events`, generated from wagate's
`shared/events`), so a business system builds and reads exactly what wagate does; the topic
registry is `wagate_client.topics`. `upload_media` hands dispatch a file to send (checked against
Meta's types and sizes first) and returns its reusable media id and `ref`.
"""

from __future__ import annotations

from wagate_client.client import (
    ENV_PREFIX,
    DeliveryFollower,
    WagateClient,
    kafka_settings_from,
)
from wagate_client.events.delivery import TERMINAL_STATES, DeliveryUpdated
from wagate_client.events.intents import (
    ContactsContent,
    InteractiveContent,
    LocationContent,
    MediaContent,
    OutboundIntentSubmitted,
    ReactionContent,
    TemplateContent,
    TextContent,
)
from wagate_client.media_upload import MediaRefused, MediaUnavailable, upload_media
from wagate_client.settings import KafkaSettings

__version__ = "0.1.0"
__all__ = [
    "ENV_PREFIX",
    "TERMINAL_STATES",
    "ContactsContent",
    "DeliveryFollower",
    "DeliveryUpdated",
    "InteractiveContent",
    "KafkaSettings",
    "LocationContent",
    "MediaContent",
    "MediaRefused",
    "MediaUnavailable",
    "OutboundIntentSubmitted",
    "ReactionContent",
    "TemplateContent",
    "TextContent",
    "WagateClient",
    "kafka_settings_from",
    "upload_media",
]
