"""Webhook fragments ingest did not understand, kept whole so nothing Meta sent is dropped."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shared.events.envelope import Event


class WebhookFragmentUnparsed(Event):
    """A part of a verified webhook that did not become a typed event, and why."""

    field: str = Field(description="Meta's `changes[].field`, or `<payload>` for the whole body.")
    reason: str
    waba_id: str | None = None
    fragment: Any = Field(description="The JSON fragment exactly as Meta sent it.")
    webhook_event_id: str | None = Field(
        default=None, description="event_id of the journaled WebhookReceived it came from."
    )
