"""The current state of every template-language, published on a compacted topic so policy can
check an intent's template (approved? which parameters?) without calling the templates service."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.events.envelope import Event, Model

HeaderKind = Literal["none", "text", "image", "video", "document", "location"]


class ButtonParameter(Model):
    """A template button that needs a value at send time (`index` is its 0-based position)."""

    index: int
    sub_type: str = Field(description="Send-time sub_type: url, copy_code, flow ...")


class ParameterSpec(Model):
    """What a send of this template must carry."""

    parameter_format: Literal["positional", "named"] = "positional"
    header_kind: HeaderKind = "none"
    header_count: int = Field(default=0, description="Positional header text variables (0 or 1).")
    header_names: tuple[str, ...] = ()
    body_count: int = Field(default=0, description="Positional body variables.")
    body_names: tuple[str, ...] = Field(default=(), description="Named body variables.")
    buttons: tuple[ButtonParameter, ...] = ()


class TemplateStateChanged(Event):
    """A template in one language reached a new state (created, submitted, reviewed, edited,
    paused, re-categorised, deleted ...). The latest event per key is the current state."""

    waba_id: str
    name: str
    language: str
    category: str
    status: str = Field(description="APPROVED is the only status that may be sent; DRAFT: local.")
    quality: str | None = None
    parameter_format: Literal["positional", "named"] = "positional"
    parameters: ParameterSpec = ParameterSpec()
    meta_id: str | None = None
    rejected_reason: str | None = None
    correct_category: str | None = Field(
        default=None, description="Meta announced a re-categorisation to this category."
    )
    fallback_languages: tuple[str, ...] = Field(
        default=(), description="Languages to try, in order, when this one cannot be sent."
    )
    version: int = Field(default=1, description="Grows with every change of this template.")

    @property
    def key(self) -> str:
        return state_key(self.waba_id, self.name, self.language)


def state_key(waba_id: str, name: str, language: str) -> str:
    return f"{waba_id}:{name}:{language}"
