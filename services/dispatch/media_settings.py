"""Dispatch's media settings (`DISPATCH_MEDIA__...`): where uploaded and inbound files are
kept, who may upload, how long files are kept, and how the inbound worker retries."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class MediaSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    outbound_dir: Path = Field(
        default=Path(".local/media/outbound"),
        description="Files handed to wagate to send, by content hash (re-uploaded from here "
        "when Meta's media id lapsed).",
    )
    inbound_dir: Path = Field(
        default=Path(".local/media/inbound"),
        description="Customers' files fetched from Meta, by content hash.",
    )
    api_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Bearer keys `POST /media` accepts (a list, so a key can be rotated); "
        "none (the default): uploads are off.",
    )
    reuse_margin_s: float = Field(
        default=86400.0,
        ge=0,
        description="A cached media id is not reused this close to its expiry (uploaded again).",
    )
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="Kept files older than this are deleted; unset: kept until removed.",
    )
    inbound: bool = Field(default=True, description="Run the inbound media worker.")
    inbound_group: str = Field(
        default="wagate-dispatch-media", description="The inbound media worker's consumer group."
    )
    fetch_attempts: int = Field(default=6, ge=1, description="Tries per inbound file.")
    fetch_backoff_s: float = Field(
        default=2.0, gt=0, description="First pause between tries (doubling each time)."
    )
