"""The message types of the Cloud API, said once: what a business may send and what a
customer's message may be, as Meta names them in `type`.

Adding a type is one line here (plus its content model or its normaliser where it has one).
"""

from __future__ import annotations

from typing import Literal, get_args

MediaType = Literal["image", "video", "audio", "document", "sticker"]
MEDIA: frozenset[str] = frozenset(get_args(MediaType))
"""Media a business sends and a customer writes alike, by media id or link."""

FREE_FORM = frozenset({*MEDIA, "text", "location", "contacts", "interactive", "reaction"})
"""What a business may send without a template: only inside the customer service window."""

OUTBOUND = FREE_FORM | {"template"}
"""Every `type` of a send-message request."""

INBOUND = frozenset(
    {*MEDIA, "text", "location", "contacts", "interactive", "button", "reaction", "order"}
    | {"system", "unsupported", "revoke", "edit"}
)
"""Every `type` Meta reports on a customer's message in the `messages` webhook."""

NOT_OPENING_WINDOW = frozenset({"reaction", "system", "unsupported", "revoke", "edit"})
"""Inbound types that do not open or refresh the customer service window (rules §3.2)."""
