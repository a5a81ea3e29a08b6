"""Conversation signals beside messages (rules §3.1, §9.6): calls, messages the business sent
from elsewhere on the same number (WhatsApp Business app echoes, Meta's agent), and who holds
the thread under Conversation Routing."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, Field, model_validator

from shared.events.envelope import Event
from shared.events.identity import AnyBsuid, Bsuid, NamesCustomer, ParentBsuid, WaId

CallDirection = Literal["USER_INITIATED", "BUSINESS_INITIATED"]
CallEvent = Literal["connect", "terminate", "ringing", "accepted", "rejected"]


class CallReported(Event, NamesCustomer):
    """A call between a business number and a customer: a `calls[]` item (`connect`,
    `terminate`) or a business call's progress (`statuses[]` with `type: "call"`)."""

    waba_id: str | None = None
    phone_number_id: str
    call_id: str = Field(description="Meta's call id (`wacid.…`).")
    wa_id: WaId | None = Field(default=None, description="The customer's phone.")
    user_id: Bsuid | None = Field(default=None, description="The customer's BSUID.")
    parent_user_id: ParentBsuid | None = None
    direction: CallDirection
    event: CallEvent = Field(
        description="`connect`/`terminate` from `calls[]`; `ringing`/`accepted`/`rejected` "
        "from a business call's status."
    )
    status: str | None = Field(default=None, description="A terminated call's `status`.")
    timestamp: AwareDatetime
    received_at: AwareDatetime | None = None
    timestamp_in_future: bool = False
    duration_s: int | None = Field(default=None, description="A terminated call's `duration`.")
    biz_opaque_callback_data: str | None = None

    @model_validator(mode="after")
    def _names_someone(self) -> CallReported:
        self._named()
        return self

    @property
    def opens_window(self) -> bool:
        """The customer called (answered or not), or accepted the business's call (§3.1)."""
        if self.direction == "USER_INITIATED":
            return self.event == "connect"
        return self.event == "accepted"


ActivitySource = Literal["business_app", "agent"]


class OutboundActivityObserved(Event):
    """A message the business number sent to a customer without wagate: typed in the WhatsApp
    Business app (`smb_message_echoes`) or sent by Meta's agent (a `standby` echo). It uses
    the number's throughput and the customer's pair rate, and never opens a window."""

    waba_id: str | None = None
    phone_number_id: str
    source: ActivitySource
    message_id: str
    to: WaId | None = Field(default=None, description="The customer's phone (`to`).")
    to_user_id: Bsuid | None = Field(default=None, description="The customer's BSUID.")
    message_type: str
    timestamp: AwareDatetime
    received_at: AwareDatetime | None = None
    timestamp_in_future: bool = False

    @model_validator(mode="after")
    def _addressed(self) -> OutboundActivityObserved:
        if self.to is None and self.to_user_id is None:
            raise ValueError("an echo needs `to` or `to_user_id`")
        return self

    @property
    def customer(self) -> str:
        return str(self.to or self.to_user_id)


Holder = Literal["business", "agent"]
HandoverType = Literal["control_passed", "control_taken"]


class ThreadControlChanged(Event, NamesCustomer):
    """Control of a customer's thread moved (`messaging_handovers`): `control_passed` comes
    to the new owner (wagate's app now holds it), `control_taken` to the previous owner
    (another handler, Meta's agent say, now holds it)."""

    waba_id: str | None = None
    phone_number_id: str
    wa_id: WaId | None = None
    user_id: Bsuid | None = None
    parent_user_id: AnyBsuid | None = None
    change: HandoverType
    held_by: Holder = Field(description="`business`: this app; `agent`: another handler.")
    metadata: str | None = Field(default=None, description="Echoed from the thread-control call.")
    timestamp: AwareDatetime
    details: dict[str, Any] = Field(default_factory=dict, description="The notification object.")

    @model_validator(mode="after")
    def _names_someone(self) -> ThreadControlChanged:
        self._named()
        return self
