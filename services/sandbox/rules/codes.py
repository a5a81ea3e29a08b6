"""Meta's error objects the sandbox answers with (§5): one row per code, called for the error.

A row with fixed details (the ones Meta always words the same) is called with no argument;
the others take the details of the case."""

from __future__ import annotations

from dataclasses import dataclass

from shared.events.common import MetaError


@dataclass(frozen=True)
class Code:
    """One of Meta's error codes and its title; calling it gives the error object."""

    code: int
    title: str
    details: str = ""  # what Meta says when the case adds nothing of its own

    def __call__(self, details: str | None = None) -> MetaError:
        said = self.details if details is None else details
        return MetaError(code=self.code, title=self.title, message=self.title, details=said)


# A malformed request.
invalid_parameter = Code(100, "Invalid parameter")
missing_parameter = Code(131008, "Required parameter is missing")
invalid_value = Code(131009, "Parameter value is not valid")
unsupported_type = Code(131051, "Unsupported message type")
access_token = Code(190, "Invalid OAuth access token", "The access token could not be decrypted")

# Send rules.
re_engagement = Code(
    131047,
    "Re-engagement message",
    "Message failed to send because more than 24 hours have passed since the customer last "
    "replied to this number.",
)
marketing_stopped = Code(
    131050,
    "User has stopped receipt of marketing messages",
    "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
    "messages on WhatsApp from your business.",
)
throughput = Code(130429, "Rate limit hit", "Cloud API message throughput has been reached.")
pair_rate = Code(
    131056,
    "(Business Account, Consumer Account) pair rate limit hit",
    "Message failed to send because there were too many messages sent from this phone "
    "number to the same phone number in a short period of time.",
)
recipient_is_sender = Code(
    131021, "Recipient cannot be sender", "Sender and recipient phone number is the same."
)
undeliverable = Code(
    131026,
    "Message Undeliverable",
    "Unable to deliver message. The recipient is not on WhatsApp or cannot receive it.",
)
UNDELIVERABLE = undeliverable.code
bsuid_unsupported = Code(
    131062, "Business-scoped User ID (BSUID) recipients are not supported for this message."
)

# Template parameters at send time.
param_count = Code(132000, "Number of parameters does not match the expected number of params")
param_format = Code(132012, "Parameter format does not match format in the created template")
param_value = Code(132018, "There was an issue with the parameters in your template.")

# Meta's stops of a sender, its cap on a customer's marketing, and its holdout (§5, §6.4).
spam_rate = Code(
    131048,
    "Spam rate limit hit",
    "Message failed to send because there are restrictions on how many messages can be sent "
    "from this phone number. This may be because too many previous messages were blocked or "
    "flagged as spam.",
)
classification_limit = Code(
    131064,
    "Messaging limit reached due to template classification violations",
    "This account has reached a messaging limit because of template categorization violations.",
)
policy_block = Code(368, "Temporarily blocked for policies violations")
not_delivered = Code(
    131049,
    "This message was not delivered to maintain healthy ecosystem engagement.",
    "In order to maintain a healthy ecosystem engagement, the message failed to be delivered.",
)
holdout = Code(
    130472,
    "User's number is part of an experiment",
    "Failed to send message because this user's phone number is part of an experiment",
)
SENDER_CODES = {c.code: c for c in (spam_rate, classification_limit, policy_block)}
"""Answered at once (HTTP 400): the send is refused."""
LATE_CODES = {c.code: c for c in (not_delivered, holdout)}
"""Accepted, then a `failed` status: Meta reports them asynchronously."""

# Meta's side.
service_unavailable = Code(131016, "Service unavailable", "A service is temporarily unavailable.")
unknown_error = Code(
    131000, "Something went wrong", "Message failed to send due to an unknown error."
)

# Template management.
template_rate = Code(80007, "Rate limit issues")
template_limit = Code(
    2388019,
    "Message Template Limit Exceeded",
    "You have reached the maximum number of message templates for this WhatsApp Business Account.",
)
_TEMPLATE_MISSING = Code(132001, "Template name does not exist in the translation")
_TEMPLATE_PAUSED = Code(132015, "Template is Paused")
_TEMPLATE_DISABLED = Code(132016, "Template is Disabled")
_FIELD_TOO_LONG = Code(2388040, "Field too long")


def template_missing(name: str, language: str) -> MetaError:
    return _TEMPLATE_MISSING(f"template name ({name}) does not exist in {language}")


def template_not_approved(name: str, language: str, status: str) -> MetaError:
    return _TEMPLATE_MISSING(f"template name ({name}) in {language} is {status}, not APPROVED")


def template_paused(name: str) -> MetaError:
    return _TEMPLATE_PAUSED(f"Template {name} is paused due to low quality.")


def template_disabled(name: str) -> MetaError:
    return _TEMPLATE_DISABLED(f"Template {name} was paused too many times and is disabled.")


def template_exists(name: str, language: str) -> MetaError:
    return invalid_parameter(
        f'Message template "{name}" already exists in {language}; content cannot be added '
        "while the existing content is being deleted or a template of that name and language "
        "exists."
    )


def no_such_object(object_id: str) -> MetaError:
    return invalid_parameter(
        f"Unsupported request. Object with ID '{object_id}' does not exist, cannot be loaded "
        "due to missing permissions, or does not support this operation."
    )


def too_long(what: str, limit: int) -> MetaError:
    """A template field over its length limit (2388040)."""
    return _FIELD_TOO_LONG(f"{what} is longer than {limit} characters")


def bad_format(code: int, details: str) -> MetaError:
    """One of the template format errors (2388047, 2388073, 2388293, 2388299)."""
    return Code(code, "Invalid format")(details)
