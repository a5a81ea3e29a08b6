"""Whom a send is addressed to (§9.1 "Sending"): a phone in `to` or a BSUID in `recipient`,
`to` winning when both are given; which BSUIDs a number may address; the authentication
templates a BSUID cannot receive (131062); and the `contacts[]` of the send response."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from services.sandbox.rules import codes
from services.sandbox.rules.identity import LOOKS_SCOPED, bsuid_problem
from services.sandbox.rules.template_model import Template
from shared.events.common import MetaError
from shared.events.keys import normalize_wa_id

LINKED = "linked portfolios"
"""The owner of a parent BSUID: every portfolio of the linked set, not one of them."""


@dataclass(frozen=True)
class Address:
    """What a send names: `phone` (digits) or `user_id` (a BSUID or parent BSUID, verbatim).
    `both` marks a phone send that also gave `recipient` (which `to` overrode)."""

    by: Literal["phone", "user_id"]
    value: str
    given: str
    both: bool = False


def check_addressee(payload: Mapping[str, object]) -> MetaError | None:
    """`to` or `recipient` is given and well formed (100 otherwise). A `recipient` beside `to`
    is checked too: `to` wins, but a malformed field is still a malformed request."""
    to, recipient = payload.get("to"), payload.get("recipient")
    if recipient is not None:
        problem = bsuid_problem(recipient, parent=True)
        if problem is not None:
            return codes.invalid_parameter(f"Parameter 'recipient' {problem}")
        if to is None:
            return None
    if not isinstance(to, str) or not to.strip():
        return codes.invalid_parameter("Parameter 'to' (a phone number) or 'recipient' is required")
    if LOOKS_SCOPED.match(to.strip()):
        return codes.invalid_parameter(
            "Parameter 'to' takes a phone number; a BSUID goes in 'recipient'"
        )
    return None


def address_of(payload: Mapping[str, object]) -> Address:
    """The addressee of a request that passed `check_addressee`: `to` wins over `recipient`."""
    to, recipient = payload.get("to"), payload.get("recipient")
    if isinstance(to, str):
        return Address("phone", normalize_wa_id(to), to, both=recipient is not None)
    return Address("user_id", str(recipient), str(recipient))


def unknown_recipient(recipient: str, *, retired: bool) -> MetaError:
    """A BSUID no user of the portfolio has (`retired`: had, before changing number). Meta
    names no code for it; the sandbox answers 100 at once (HTTP 400), as for a foreign one."""
    reason = (
        "is no longer valid: the user changed phone number and has a new BSUID"
        if retired
        else "is not a BSUID of any user of this business portfolio"
    )
    return codes.invalid_parameter(f"recipient {recipient} {reason}")


def check_scope(
    recipient: str, owner: str, number_portfolio: str, number_linked: bool
) -> MetaError | None:
    """A BSUID may be addressed only from a number of the portfolio that owns it (`owner`), a
    parent BSUID (owner `LINKED`) only from a number of a linked portfolio. Meta names no code
    for a foreign BSUID; the sandbox answers 100 at once (HTTP 400)."""
    if owner == LINKED:
        if number_linked:
            return None
        reason = "is a parent BSUID, valid only from the numbers of linked portfolios"
    elif owner != number_portfolio:
        reason = "belongs to another business portfolio than this number's"
    else:
        return None
    return codes.invalid_parameter(f"recipient {recipient} {reason}")


def check_bsuid_allowed(address: Address, template: Template | None) -> MetaError | None:
    """Authentication templates (copy-code, one-tap, zero-tap) need a phone: one sent by
    `recipient` alone is refused with 131062. With `to` given too, `to` wins and it goes."""
    if address.by == "user_id" and template is not None and template.category == "AUTHENTICATION":
        return codes.bsuid_unsupported(
            f"authentication template {template.name} must be sent to a phone number in 'to'"
        )
    return None


def response_contact(address: Address, user_id: str) -> dict[str, Any]:
    """The send response's `contacts[]` item: `input` as addressed, `wa_id` for phone sends,
    `user_id` (the BSUID in the number's portfolio) for BSUID sends and for sends that gave both."""
    if address.by == "phone":
        contact = {"input": address.given, "wa_id": address.value}
        if address.both:
            contact["user_id"] = user_id
        return contact
    return {"input": address.given, "user_id": user_id}
