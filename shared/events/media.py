"""What became of a customer's file: dispatch fetched it from Meta, checked its type and size
and kept it (a stable reference and its checksum), or could not (why, after how many tries)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events.envelope import Event
from shared.events.message_types import MediaType

MediaOutcome = Literal["stored", "failed"]


class InboundMediaReported(Event):
    """A customer's image, video, audio, document or sticker: stored, or failed for good."""

    phone_number_id: str
    wa_id: str = Field(description="The customer's WhatsApp id (digits), as on the message.")
    message_id: str = Field(description="Meta's wamid of the inbound message.")
    message_type: MediaType
    media_id: str = Field(description="Meta's media id (fetchable for 7 days).")
    outcome: MediaOutcome
    reference: str | None = Field(
        default=None, description="Where the file is kept, addressed by its content hash."
    )
    sha256: str | None = Field(default=None, description="The kept file's SHA-256 (hex).")
    mime_type: str | None = Field(default=None, description="The type its bytes were found to be.")
    size: int | None = Field(default=None, ge=0, description="Bytes.")
    filename: str | None = None
    caption: str | None = None
    attempts: int = Field(ge=0, description="Fetches tried.")
    reason: str | None = Field(
        default=None, description="Why it failed: MEDIA_FETCH_FAILED, MEDIA_REFUSED."
    )
    detail: str = ""
