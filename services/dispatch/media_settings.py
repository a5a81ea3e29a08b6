"""Dispatch's media settings (`DISPATCH_MEDIA__...`): where uploaded and inbound files are
kept, who may upload, how long files are kept, and how the inbound worker retries."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

# S3's bucket names: 3 to 63 lowercase letters, digits, dots and hyphens, a letter or digit
# at each end
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


class S3Settings(BaseModel):
    """An S3-compatible bucket (`DISPATCH_MEDIA__S3__...`): AWS S3, or MinIO, Ceph, R2 by
    `endpoint_url`. Without keys, boto3's own credential chain is used."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str | None = Field(default=None, description="The bucket (required with store=s3).")
    prefix: str = Field(
        default="wagate/media",
        description="Keys start with this (then `inbound/` or `outbound/`, `<sha[:2]>/<sha>`).",
    )
    endpoint_url: str | None = Field(
        default=None, description="The S3 API's base url (unset: AWS's, from the region)."
    )
    region: str | None = Field(default=None, description="The bucket's region.")
    access_key_id: SecretStr | None = None
    secret_access_key: SecretStr | None = None
    session_token: SecretStr | None = None
    addressing_style: Literal["auto", "path", "virtual"] = Field(
        default="auto", description="`path` for most MinIO and Ceph installations."
    )
    timeout_s: float = Field(default=10.0, gt=0, description="Connect and read timeout.")
    attempts: int = Field(default=3, ge=1, description="boto3's tries per call.")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str | None) -> str | None:
        if value is not None and (not BUCKET.fullmatch(value) or ".." in value):
            raise ValueError(f"{value!r} is not an S3 bucket name")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        parts = value.strip("/").split("/")
        if any(part in (".", "..") for part in parts) or any(ord(c) < 32 for c in value):
            raise ValueError(f"{value!r} is not a key prefix")
        return "/".join(part for part in parts if part)

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) url")
        return value

    @model_validator(mode="after")
    def _keys(self) -> S3Settings:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise ValueError("access_key_id and secret_access_key go together")
        return self


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
    store: Literal["local", "s3"] = Field(
        default="local",
        description="Where kept files go: the two directories above, or the `s3` bucket.",
    )
    s3: S3Settings = S3Settings()
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

    @model_validator(mode="after")
    def _store(self) -> MediaSettings:
        if self.store == "s3" and not self.s3.bucket:
            raise ValueError("store=s3 needs s3.bucket (DISPATCH_MEDIA__S3__BUCKET)")
        return self
