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


class InvalidCustomer(PermanentError, ValueError):
    """A control request naming or describing a customer with a malformed phone, BSUID,
    parent BSUID or username, or a withheld phone without a username."""


class UnknownCustomer(PermanentError, LookupError):
    """No customer has that phone or BSUID (customers known only by BSUID are added first)."""


class CustomerConflict(PermanentError, ValueError):
    """A customer change that would give one identifier to two customers, or change what Meta
    changes only with a number change (a BSUID, a phone)."""
