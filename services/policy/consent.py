"""Consent per customer and category: pure transitions from every source that reveals it.

The latest fact wins: a business opt-in, a user_preferences stop/resume, a STOP keyword, a
131050 refusal reported by dispatch. Categories are `marketing` and `all`.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime

from shared.events.envelope import Model

# Replies that stop or resume marketing, in several languages (configurable).
DEFAULT_STOP_WORDS = frozenset(
    {"stop", "unsubscribe", "parar", "alto", "baja", "arret", "arrêt", "stopp", "cancelar"}
)
DEFAULT_START_WORDS = frozenset({"start", "subscribe", "unstop", "iniciar", "reprendre"})
MARKETING = "marketing"
ALL = "all"


class Opinion(Model):
    opted_in: bool
    at: AwareDatetime
    source: str


class ConsentState(Model):
    marketing: Opinion | None = None
    everything: Opinion | None = None

    def marketing_allowed(self) -> bool:
        return (
            self.marketing is not None and self.marketing.opted_in and not self.opted_out_of_all()
        )

    def opted_out_of_all(self) -> bool:
        return self.everything is not None and not self.everything.opted_in


def record(
    state: ConsentState | None, category: str, opted_in: bool, at: datetime, source: str
) -> ConsentState | None:
    """The state after a consent fact; None when an equal or newer fact is already known."""
    current = state or ConsentState()
    field = "everything" if category == ALL else "marketing" if _is_marketing(category) else None
    if field is None:
        return None
    known: Opinion | None = getattr(current, field)
    if known is not None and known.at >= at:
        return None
    return current.model_copy(update={field: Opinion(opted_in=opted_in, at=at, source=source)})


def _is_marketing(category: str) -> bool:
    return category.lower().startswith("marketing")


def preference(value: str) -> bool | None:
    """user_preferences `value`: stop -> False, resume -> True, anything else -> None."""
    return {"stop": False, "resume": True}.get(value.lower())


def keyword(
    text: str | None, stop_words: frozenset[str], start_words: frozenset[str]
) -> bool | None:
    """A message that is exactly a stop or start keyword (any case, trimmed) -> its consent."""
    if not text:
        return None
    word = text.strip().strip(".!").casefold()
    if word in stop_words:
        return False
    if word in start_words:
        return True
    return None
