"""What a template-language publishes on the compacted states topic: its current state with the
send-time parameter spec policy checks an intent against, and the languages to fall back to.
Pure."""

from __future__ import annotations

from typing import Any

from services.templates.records import TemplateRecord
from services.templates.rules.spec import parameter_spec
from shared.events.template_states import TemplateStateChanged

PRODUCER = "templates"


def state(
    record: TemplateRecord, fallbacks: tuple[str, ...] = (), **envelope: Any
) -> TemplateStateChanged:
    """The state of `record`; `fallbacks` is its name's whole chain, `envelope` the event ids."""
    fmt = "named" if record.parameter_format.lower() == "named" else "positional"
    return TemplateStateChanged(
        **envelope,
        producer=PRODUCER,
        waba_id=record.waba_id,
        name=record.name,
        language=record.language,
        category=record.category,
        status=record.status,
        quality=record.quality,
        parameter_format=fmt,
        parameters=parameter_spec(record.category, fmt, record.components),
        meta_id=record.meta_id,
        rejected_reason=record.rejected_reason,
        correct_category=record.correct_category,
        fallback_languages=fallbacks_after(record.language, fallbacks),
        version=record.version,
    )


def fallbacks_after(language: str, chain: tuple[str, ...]) -> tuple[str, ...]:
    """The languages to try when `language` cannot be sent: those after it in the template's
    chain (pt_BR -> pt -> en: pt_BR falls back to pt then en, en to nothing), or the whole
    chain for a language outside it."""
    return chain[chain.index(language) + 1 :] if language in chain else chain
