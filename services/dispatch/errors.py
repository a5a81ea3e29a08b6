"""Dispatch's errors, in the families of `shared.errors`: both are retryable (the consume
loop or the sender tries the same work again later)."""

from __future__ import annotations

from shared.db import DatabaseUnavailable
from shared.errors import RetryableError


class LedgerUnavailable(DatabaseUnavailable):
    """The ledger's PostgreSQL cannot be reached right now."""


class StatusRaced(RetryableError):
    """A status could not be applied: its intent kept changing under it (sends, the settler)."""


class StoreUnavailable(RetryableError):
    """The object store that keeps media cannot be reached or used right now (the file is
    fetched or taken again later; nothing is dropped)."""
