"""Every error the templates service raises on purpose, each rooted in `shared.errors`.

Permanent errors are answered (404, 409, 502) or dead-lettered; retryable ones are answered 503
by the HTTP API, retried by the consume loop and tried again by the repair loop. A template
that breaks Meta's rules is no error: the rules return a `Verdict` naming every broken rule.
"""

from __future__ import annotations

from shared.db import DatabaseUnavailable
from shared.errors import PermanentError, RetryableError


class MetaApiError(PermanentError):
    """The Cloud API refused the request; `code` is Meta's error code."""

    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(f"Cloud API error {code} (HTTP {http_status}): {message}")
        self.http_status = http_status
        self.code = code
        self.message = message


class CloudApiUnavailable(RetryableError):
    """No answer, or a server-side or throttling failure: try again later."""


class TemplateExists(PermanentError):
    """A template with this name already exists in this language."""


class StoreUnavailable(DatabaseUnavailable):
    """PostgreSQL cannot be reached right now."""


class NotFound(PermanentError, LookupError):
    """No such template in the registry."""


class WrongState(PermanentError, ValueError):
    """The template's status does not allow the request (unpause an approved one ...)."""
