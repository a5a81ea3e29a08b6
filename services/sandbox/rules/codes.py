"""Meta's error objects the sandbox answers with, one constructor per code (§5)."""

from __future__ import annotations

from shared.events.common import MetaError


def _error(code: int, title: str, details: str) -> MetaError:
    return MetaError(code=code, title=title, message=title, details=details)


def invalid_parameter(details: str) -> MetaError:
    return _error(100, "Invalid parameter", details)


def missing_parameter(details: str) -> MetaError:
    return _error(131008, "Required parameter is missing", details)


def invalid_value(details: str) -> MetaError:
    return _error(131009, "Parameter value is not valid", details)


def unsupported_type(details: str) -> MetaError:
    return _error(131051, "Unsupported message type", details)


def access_token(details: str = "The access token could not be decrypted") -> MetaError:
    return _error(190, "Invalid OAuth access token", details)


def re_engagement() -> MetaError:
    return _error(
        131047,
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last "
        "replied to this number.",
    )


def marketing_stopped() -> MetaError:
    return _error(
        131050,
        "User has stopped receipt of marketing messages",
        "Unable to deliver the message. This recipient has chosen to stop receiving marketing "
        "messages on WhatsApp from your business.",
    )


def throughput() -> MetaError:
    return _error(130429, "Rate limit hit", "Cloud API message throughput has been reached.")


def pair_rate() -> MetaError:
    return _error(
        131056,
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    )


def template_missing(name: str, language: str) -> MetaError:
    return _error(
        132001,
        "Template name does not exist in the translation",
        f"template name ({name}) does not exist in {language}",
    )


def template_not_approved(name: str, language: str, status: str) -> MetaError:
    return _error(
        132001,
        "Template name does not exist in the translation",
        f"template name ({name}) in {language} is {status}, not APPROVED",
    )


def template_paused(name: str) -> MetaError:
    return _error(132015, "Template is Paused", f"Template {name} is paused due to low quality.")


def template_disabled(name: str) -> MetaError:
    return _error(
        132016,
        "Template is Disabled",
        f"Template {name} was paused too many times and is disabled.",
    )


def param_count(details: str) -> MetaError:
    return _error(
        132000, "Number of parameters does not match the expected number of params", details
    )


def param_format(details: str) -> MetaError:
    return _error(132012, "Parameter format does not match format in the created template", details)


def param_value(details: str) -> MetaError:
    return _error(132018, "There was an issue with the parameters in your template.", details)


def service_unavailable() -> MetaError:
    return _error(131016, "Service unavailable", "A service is temporarily unavailable.")


def unknown_error() -> MetaError:
    return _error(131000, "Something went wrong", "Message failed to send due to an unknown error.")


def template_rate(details: str) -> MetaError:
    return _error(80007, "Rate limit issues", details)


def template_limit() -> MetaError:
    return _error(
        2388019,
        "Message Template Limit Exceeded",
        "You have reached the maximum number of message templates for this WhatsApp Business "
        "Account.",
    )


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


def recipient_is_sender() -> MetaError:
    return _error(
        131021, "Recipient cannot be sender", "Sender and recipient phone number is the same."
    )


UNDELIVERABLE = 131026


def undeliverable() -> MetaError:
    return _error(
        UNDELIVERABLE,
        "Message Undeliverable",
        "Unable to deliver message. The recipient is not on WhatsApp or cannot receive it.",
    )
