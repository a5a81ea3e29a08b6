"""What business systems ask wagate to send: outbound intents and their content."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.events import plain
from shared.events.envelope import Event, Model
from shared.events.identity import AnyBsuid
from shared.events.message_types import MediaType

Priority = Literal["reply", "notification", "marketing"]
FreeFormCategory = Literal["service", "utility", "marketing"]


class TextContent(Model):
    type: Literal["text"] = "text"
    body: str = Field(min_length=1, max_length=4096)
    preview_url: bool = False


CAPTIONED_MEDIA = frozenset({"image", "video", "document"})
REF_PREFIX = "sha256:"
"""How a media `ref` names content handed to wagate (`wagate media upload`): its sha256."""


class MediaContent(Model):
    type: MediaType
    id: str | None = None
    link: str | None = None
    ref: str | None = Field(
        default=None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="Content handed to wagate first (`wagate media upload`): dispatch sends it "
        "by the media id it uploaded to the number, once per Meta's media id lifetime.",
    )
    caption: str | None = Field(default=None, max_length=1024)
    filename: str | None = None

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> MediaContent:
        if [self.id, self.link, self.ref].count(None) != 2:
            raise ValueError("media needs exactly one of `id`, `link` or `ref`")
        if self.caption is not None and self.type not in CAPTIONED_MEDIA:
            raise ValueError(f"`caption` is allowed on {sorted(CAPTIONED_MEDIA)}, not {self.type}")
        if self.filename is not None and self.type != "document":
            raise ValueError(f"`filename` is allowed on documents only, not {self.type}")
        return self


class LocationContent(Model):
    type: Literal["location"] = "location"
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    name: str | None = None
    address: str | None = None


class ReactionContent(Model):
    type: Literal["reaction"] = "reaction"
    message_id: str
    emoji: str = ""


class InteractiveContent(Model):
    type: Literal["interactive"] = "interactive"
    interactive: dict[str, Any]


class ContactsContent(Model):
    type: Literal["contacts"] = "contacts"
    contacts: list[dict[str, Any]] = Field(min_length=1)


class TemplateContent(Model):
    type: Literal["template"] = "template"
    name: str = Field(min_length=1, max_length=512)
    language: str = Field(min_length=2, max_length=15)
    components: list[dict[str, Any]] = Field(default_factory=list)


class ReadReceiptContent(Model):
    """Mark a message the customer sent as read (Meta marks earlier ones read with it), with a
    typing indicator if asked: shown until the business replies or for 25 s. Not a message: it
    needs the customer service window open, is free, and nothing is delivered to anyone."""

    type: Literal["read_receipt"] = "read_receipt"
    message_id: str = Field(
        min_length=1, max_length=256, description="The wamid of the customer's message."
    )
    typing_indicator: bool = False


MessageContent = Annotated[
    TextContent
    | MediaContent
    | LocationContent
    | ReactionContent
    | InteractiveContent
    | ContactsContent
    | TemplateContent
    | ReadReceiptContent,
    Field(discriminator="type"),
]


class Redecision(Model):
    """Set by dispatch alone when it hands an intent back to policy for a fresh decision: the
    approval it held no longer holds (`APPROVAL_EXPIRED`), or Meta refused the free-form
    message because the window is closed (`131047`). Business systems leave it unset."""

    count: int = Field(ge=1, description="How many times this intent has been handed back.")
    reason: str = Field(min_length=1)
    detail: str = ""


class OutboundIntentSubmitted(Event):
    """A business system asks wagate to send one message to one customer."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        return plain.plain_event(data)

    intent_id: str = Field(
        min_length=1, max_length=128, description="The client's idempotency key."
    )
    phone_number_id: str = Field(min_length=1)
    to: str | None = Field(
        default=None,
        min_length=1,
        description="The customer's phone number (E.164, `+` and separators allowed) or wa_id; "
        "policy rejects one that is no possible number (`INVALID_RECIPIENT`). Give `to` or "
        "`recipient`, not both.",
    )
    recipient: AnyBsuid | None = Field(
        default=None,
        description="The customer's BSUID (or parent BSUID), for a customer known only by it. "
        "Give `to` or `recipient`, not both.",
    )
    content: MessageContent
    fallback_template: TemplateContent | None = None
    not_after: AwareDatetime | None = None
    priority: Priority = "notification"
    category: FreeFormCategory | None = None
    reply_to: str | None = Field(default=None, description="wamid to quote as context.")
    metadata: dict[str, str] = Field(default_factory=dict)
    redecision: Redecision | None = None
    resend_when_unknown: bool = Field(
        default=False,
        description="Content for which a duplicate is harmless: when no answer and no status "
        "confirmed the send after the settle wait, send it again (while not_after and the "
        "attempts allow). By default such a send stays `unknown` and is never sent twice.",
    )
    take_control: bool = Field(
        default=False,
        description="Send even when another handler (Meta's Business Agent) holds the "
        "customer's thread: the send takes the thread over. Without it such an intent is "
        "rejected with THREAD_HELD_BY_AGENT.",
    )

    @model_validator(mode="after")
    def _one_address(self) -> OutboundIntentSubmitted:
        if (self.to is None) == (self.recipient is None):
            raise ValueError(
                "an intent needs exactly one of `to` (a phone number) or `recipient` (a BSUID)"
            )
        if self.is_read_receipt and (self.fallback_template is not None or self.reply_to):
            raise ValueError("a read receipt takes neither `fallback_template` nor `reply_to`")
        return self

    @property
    def customer(self) -> str:
        """The identifier the intent addresses: `to` or `recipient`, whichever is given."""
        return self.to if self.to is not None else str(self.recipient)

    @property
    def is_template(self) -> bool:
        return self.content.type == "template"

    @property
    def is_read_receipt(self) -> bool:
        return self.content.type == "read_receipt"
