"""Policy's errors, rooted in shared/errors.py: events it reads but cannot use (dead-lettered
with the reason, the partition goes on)."""

from __future__ import annotations

from shared.errors import PermanentError


class UnusableFact(PermanentError):
    """A consent fact policy cannot record as it is: its business or category is not one policy
    knows, or it names no customer."""


class DecisionFailed(PermanentError):
    """Deciding one intent failed; the intent ended rejected with INTERNAL_ERROR."""
