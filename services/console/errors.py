"""The console's errors, rooted in `shared.errors`: a read model that cannot be reached is
retryable (the batch is read again); a dead letter gone from Kafka is not."""

from __future__ import annotations

from shared.db import DatabaseUnavailable
from shared.errors import PermanentError, RetryableError


class StoreUnavailable(DatabaseUnavailable):
    """The read model's PostgreSQL cannot be reached right now."""


class DeadLetterGone(PermanentError):
    """The dead letter is no longer on its topic (retention took it): it cannot be redriven."""


class SandboxUnavailable(RetryableError):
    """The sandbox's control API did not answer (the chat pages need it)."""
