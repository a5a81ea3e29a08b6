"""The sandbox's errors, rooted in wagate's families. Each is a request the sandbox refuses as
it is (a permanent error); each also stays the built-in kind (`ValueError`, `LookupError`)
that the control routes catch."""

from __future__ import annotations

from shared.errors import PermanentError


class InvalidCustomerMessage(PermanentError, ValueError):
    """The control request does not describe a message a customer could send."""


class TemplateNotFound(PermanentError, LookupError):
    """No template has that id (or only a deleted one)."""


class TemplateActionRefused(PermanentError, ValueError):
    """A control action that does not apply to the template as it is (unpausing one that is not
    paused), or names an unknown category or quality score."""
