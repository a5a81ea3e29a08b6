"""Files by content hash, written once and read back by their hash, old ones removed by the
retention sweep: in a local directory (`<root>/<sha[:2]>/<sha>`, the default) or in an
S3-compatible bucket (`<prefix>/<sha[:2]>/<sha>`, through boto3). Both are blocking: callers
run them off the event loop (`asyncio.to_thread`)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import SecretStr

from services.dispatch.errors import StoreUnavailable
from services.dispatch.media_settings import S3Settings
from shared import media

MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class MediaStore(Protocol):
    def reference(self, sha256: str) -> str: ...
    def put(self, data: bytes) -> str: ...
    def get(self, sha256: str) -> bytes | None: ...
    def sweep(self, older_than_s: float, now: float | None = None) -> int: ...


def checked(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256: {sha256!r}")
    return sha256


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / checked(sha256)[:2] / sha256

    def reference(self, sha256: str) -> str:
        """The stable reference a business is given for a kept file."""
        return f"file://{self.path(sha256).resolve()}"

    def put(self, data: bytes) -> str:
        """Keep `data`; its sha256 (kept once however often it is put)."""
        sha = media.sha256(data)
        target = self.path(sha)
        if target.exists():
            return sha
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)
        return sha

    def get(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except (OSError, ValueError):
            return None

    def sweep(self, older_than_s: float, now: float | None = None) -> int:
        """Delete files kept longer than `older_than_s`; how many went."""
        cutoff = (time.time() if now is None else now) - older_than_s
        removed = 0
        for path in self.root.glob("??/*"):
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class S3Store:
    """The same store in a bucket: an object is written only when a HEAD finds none (S3 itself
    is the record of what is kept), and the sweep goes by each object's LastModified. Any
    failure to reach or use the bucket is `StoreUnavailable` (retryable: nothing is dropped)."""

    def __init__(self, settings: S3Settings, prefix: str, client: Any | None = None) -> None:
        self.bucket = settings.bucket or ""
        self.prefix = "/".join(p for p in (settings.prefix, prefix) if p)
        self._client = client or s3_client(settings)

    def key(self, sha256: str) -> str:
        return f"{self.prefix}/{checked(sha256)[:2]}/{sha256}".lstrip("/")

    def reference(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self.key(sha256)}"

    def put(self, data: bytes) -> str:
        sha = media.sha256(data)
        key = self.key(sha)
        with self._failures("keeping", key):
            if self._exists(key):
                return sha
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data)
        return sha

    def get(self, sha256: str) -> bytes | None:
        try:
            key = self.key(sha256)
        except ValueError:
            return None
        with self._failures("reading", key):
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in MISSING:
                    return None
                raise
            return bytes(answer["Body"].read())

    def sweep(self, older_than_s: float, now: float | None = None) -> int:
        cutoff = datetime.fromtimestamp((time.time() if now is None else now) - older_than_s, UTC)
        old = [key for key, modified in self._listed() if modified < cutoff]
        with self._failures("sweeping", self.prefix):
            for start in range(0, len(old), 1000):  # S3's most keys per DeleteObjects
                batch = [{"Key": key} for key in old[start : start + 1000]]
                self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
        return len(old)

    def _listed(self) -> Iterator[tuple[str, datetime]]:
        with self._failures("listing", self.prefix):
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}/" if self.prefix else ""
            )
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]

    def _exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in MISSING:
                return False
            raise
        return True

    def _failures(self, doing: str, key: str) -> _Failures:
        return _Failures(f"{doing} s3://{self.bucket}/{key}")


class _Failures:
    """Turns boto3's errors into `StoreUnavailable`, naming what was being done."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any
    ) -> None:
        if isinstance(exc, ClientError):
            raise StoreUnavailable(f"{self.what} failed: {_code(exc)} {exc}") from exc
        if isinstance(exc, BotoCoreError):
            raise StoreUnavailable(f"{self.what} failed: {exc}") from exc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def s3_client(settings: S3Settings) -> Any:
    """A client for the configured endpoint; boto3's own credential chain (environment, shared
    files, instance or pod roles) when no key is set."""

    def secret(value: SecretStr | None) -> str | None:
        return None if value is None else value.get_secret_value()

    config = Config(
        connect_timeout=settings.timeout_s,
        read_timeout=settings.timeout_s,
        retries={"mode": "standard", "max_attempts": settings.attempts},
        # S3-compatible stores (MinIO, Ceph, R2) do not all take the checksums boto3 adds by
        # default: send one only where S3 requires it
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": settings.addressing_style},
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=settings.endpoint_url,
        region_name=settings.region,
        config=config,
        aws_access_key_id=secret(settings.access_key_id),
        aws_secret_access_key=secret(settings.secret_access_key),
        aws_session_token=secret(settings.session_token),
    )
