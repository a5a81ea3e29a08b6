"""Customers' consent as the business records it (opt-ins and opt-outs from its own systems,
`wagate consent import`) and as wagate learns it from sending (Meta refusing marketing with
131050 because the customer stopped it)."""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import Field, model_validator

from shared.events import plain
from shared.events.envelope import Event

ConsentCategory = Literal["marketing", "utility", "authentication", "all"]


class ConsentChanged(Event):
    """A customer's consent to one category of messages changed. `occurred_at` is when the
    customer gave or withdrew it; the consent belongs to the business (its WABA or portfolio),
    whichever of its numbers `phone_number_id` names."""

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        return plain.plain_event(data)

    customer: str = Field(description="The customer's WhatsApp id (digits).")
    phone_number_id: str = Field(
        default="",
        description="A business number of the business the consent is for; may be empty when "
        "`waba_id` names the business.",
    )
    waba_id: str | None = Field(
        default=None, description="The business's WhatsApp Business Account, instead of a number."
    )
    category: ConsentCategory | str = Field(
        default="marketing",
        description="marketing | utility | authentication | all (every business-initiated "
        "message). An opt-out of a category policy does not know counts as `all`.",
    )
    opted_in: bool
    source: str = Field(
        description="Where the consent was collected (checkout form, paper, `send_error:131050`)."
    )
    intent_id: str | None = Field(default=None, description="The intent that revealed it.")

    @model_validator(mode="after")
    def _names_the_business(self) -> Self:
        if not self.phone_number_id and not self.waba_id:
            raise ValueError("consent names its business: give phone_number_id or waba_id")
        return self
