"""The error families every wagate package builds on: retryable (back off, do not commit)
and permanent (dead-letter with a reason, commit, go on)."""

from __future__ import annotations


class WagateError(Exception):
    """Root of every error wagate raises on purpose."""

    retryable: bool = False


class RetryableError(WagateError):
    """A transient failure: the same input may succeed later (broker, database, network)."""

    retryable = True


class PermanentError(WagateError):
    """The input can never be processed as it is; it goes to the dead-letter topic."""

    retryable = False


class DecodeError(PermanentError):
    """Bytes on a topic that are not a valid event of that topic's model."""


class StartupError(WagateError):
    """A dependency (broker, database) cannot be reached when a service starts."""
