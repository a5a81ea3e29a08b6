"""Ingest's errors, rooted in shared.errors."""

from __future__ import annotations

from shared.errors import RetryableError


class DedupeUnavailable(RetryableError):
    """The dedupe memory (PostgreSQL) cannot be reached: Meta is asked to retry the webhook."""
