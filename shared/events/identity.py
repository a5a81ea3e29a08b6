"""Who a customer is, as Meta names them since 2026 (rules §9.1): a phone number (`wa_id`), a
business-scoped user id (BSUID), a parent BSUID and a display-only username; and the event
saying Meta now names a customer otherwise (a number or BSUID change, a send's answer).

A BSUID is `<ISO 3166 alpha-2>.<1 to 128 letters or digits>` (a parent may read
`<CC>.ENT.<...>`): an opaque string kept exactly as Meta gave it, never read as digits.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.events.envelope import Event, Model

BSUID_BODY = 128
BSUID_MAX = len("CC.") + BSUID_BODY
PARENT_BSUID_MAX = BSUID_MAX + len("ENT.")
BSUID_PATTERN = rf"^[A-Z]{{2}}\.[A-Za-z0-9]{{1,{BSUID_BODY}}}$"
PARENT_BSUID_PATTERN = rf"^[A-Z]{{2}}\.(?:ENT\.)?[A-Za-z0-9]{{1,{BSUID_BODY}}}$"
WA_ID_PATTERN = r"^[0-9]{1,15}$"
_ANY_BSUID = re.compile(PARENT_BSUID_PATTERN.removeprefix("^").removesuffix("$"))

Bsuid = Annotated[
    str,
    Field(
        max_length=BSUID_MAX,
        pattern=BSUID_PATTERN,
        description="A business-scoped user id, e.g. `US.13491208655302741918`, exactly as Meta "
        "gave it (country prefix and dot included).",
    ),
]
ParentBsuid = Annotated[
    str,
    Field(
        max_length=PARENT_BSUID_MAX,
        pattern=PARENT_BSUID_PATTERN,
        description="A parent BSUID (linked portfolios), e.g. `US.ENT.11815799212886844830`.",
    ),
]
AnyBsuid = Annotated[
    str,
    Field(
        max_length=PARENT_BSUID_MAX,
        pattern=PARENT_BSUID_PATTERN,
        description="A BSUID or a parent BSUID, exactly as Meta gave it.",
    ),
]
WaId = Annotated[
    str,
    Field(pattern=WA_ID_PATTERN, description="A WhatsApp id: the customer's phone, digits only."),
]
Username = Annotated[
    str,
    Field(
        max_length=64,
        pattern=r"^[^\x00-\x1f\x7f]+$",
        description="The customer's username, for display only (never an address).",
    ),
]


def is_bsuid(value: str) -> bool:
    """Whether `value` is spelled as a BSUID or a parent BSUID (not a phone)."""
    return len(value) <= PARENT_BSUID_MAX and _ANY_BSUID.fullmatch(value) is not None


class CustomerIdentity(Model):
    """Every identifier Meta gave for one customer; at least a phone or a BSUID."""

    wa_id: WaId | None = None
    user_id: Bsuid | None = None
    parent_user_id: ParentBsuid | None = None
    username: Username | None = None

    @model_validator(mode="after")
    def _named(self) -> CustomerIdentity:
        if self.wa_id is None and self.user_id is None and self.parent_user_id is None:
            raise ValueError("a customer needs a phone (`wa_id`) or a BSUID (`user_id`)")
        return self

    @property
    def identifiers(self) -> list[str]:
        """The addressable identifiers, phone first, then BSUID, then parent BSUID."""
        return [i for i in (self.wa_id, self.user_id, self.parent_user_id) if i is not None]

    @property
    def primary(self) -> str:
        """The identifier events of this customer are keyed by: the phone when Meta gave one."""
        return self.identifiers[0]


class NamesCustomer:
    """For events with `wa_id`, `user_id` and `parent_user_id` fields (and maybe `username`):
    the customer they name, checked by `_named` (an event must name someone)."""

    @property
    def identity(self) -> CustomerIdentity:
        """Every identifier Meta gave for the customer."""
        return CustomerIdentity(
            wa_id=getattr(self, "wa_id", None),
            user_id=getattr(self, "user_id", None),
            parent_user_id=getattr(self, "parent_user_id", None),
            username=getattr(self, "username", None),
        )

    @property
    def customer(self) -> str:
        """The identifier the event is keyed by: the phone when given, else the BSUID."""
        return self.identity.primary

    def _named(self) -> None:
        self.identity  # noqa: B018 - raises when the event names no customer


IdentityChange = Literal["user_changed_number", "user_changed_user_id", "send_response"]


class CustomerIdentityChanged(Event):
    """Meta names a customer with new identifiers: they changed number
    (`user_changed_number`; the BSUID regenerates too), their BSUID changed without a phone
    that may be shared (`user_changed_user_id`), or a send's answer reported the identifiers
    of the customer it addressed (`send_response`: e.g. the `wa_id` behind a number on file,
    or the BSUID behind a phone). Policy moves or links the customer's state accordingly."""

    waba_id: str | None = None
    phone_number_id: str
    change: IdentityChange
    previous: CustomerIdentity = Field(description="How the customer was known.")
    current: CustomerIdentity = Field(description="How Meta names the customer now.")
    message_id: str | None = Field(
        default=None, description="The system message's wamid, or the sent message's."
    )
    timestamp: AwareDatetime
    body: str | None = Field(default=None, description="Meta's text, e.g. `User A changed ...`.")
