"""Dispatch's live account state: per business number its throughput tier, quality rating and
restrictions as Meta last reported them (`wagate.account.updates.v1`), over the registry's
initial values. Meta's reports win, the latest by Meta's time. A number is found by its
display number (Meta's phone-number webhooks name no phone number id) or, for WABA-wide
updates, by its WABA. Pure state: `apply` says which numbers changed and how; `app.py` retunes
their senders."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from services.dispatch.settings import DispatchSettings
from shared import accounts
from shared.events.account import AccountUpdateReported


@dataclass(frozen=True)
class NumberState:
    phone_number_id: str
    waba_id: str | None
    display_phone_number: str | None
    mps: float
    quality_rating: str | None = None
    restrictions: tuple[str, ...] = ()
    messaging_limit: int | str | None = "unknown"  # the portfolio's, as last reported
    reported_at: datetime | None = None
    source: str = "settings"  # settings | meta

    def view(self) -> dict[str, Any]:
        return {
            "waba_id": self.waba_id,
            "display_phone_number": self.display_phone_number,
            "mps": self.mps,
            "quality_rating": self.quality_rating,
            "restrictions": list(self.restrictions),
            "messaging_limit": self.messaging_limit,
            "reported_at": self.reported_at.isoformat() if self.reported_at else None,
            "source": self.source,
        }


@dataclass(frozen=True)
class Applied:
    """What one account update changed: numbers with a new rate, numbers Meta released."""

    retuned: dict[str, float] = field(default_factory=dict)
    released: tuple[str, ...] = ()


class AccountBook:
    def __init__(self, settings: DispatchSettings) -> None:
        rates = settings.rates
        self._numbers: dict[str, NumberState] = {
            number_id: NumberState(
                number_id,
                number.waba_id,
                _digits(number.display_phone_number),
                number.mps or rates.numbers_mps.get(number_id, rates.default_mps),
            )
            for number_id, number in settings.numbers.items()
        }

    def get(self, phone_number_id: str) -> NumberState | None:
        return self._numbers.get(phone_number_id)

    def same_account(self, phone_number_id: str) -> list[str]:
        """The other registered numbers of the number's WABA (a WABA or portfolio hold stops
        them too; numbers with no WABA in the registry share the deployment's one)."""
        own = self._numbers.get(phone_number_id)
        waba = own.waba_id if own else None
        return [n for n, s in self._numbers.items() if n != phone_number_id and s.waba_id == waba]

    def apply(self, update: AccountUpdateReported) -> Applied:
        signal = accounts.read(update)
        targets = self._targets(signal)
        retuned: dict[str, float] = {}
        for number_id in targets:
            state = self._numbers[number_id]
            if _older(signal.reported_at, state.reported_at):
                continue
            changed = _changed(state, signal)
            self._numbers[number_id] = changed
            if changed.mps != state.mps:
                retuned[number_id] = changed.mps
        released = tuple(targets) if signal.releases_holds else ()
        return Applied(retuned, released)

    def _targets(self, signal: accounts.AccountSignal) -> list[str]:
        if signal.display_phone_number is not None:
            return [
                n
                for n, s in self._numbers.items()
                if s.display_phone_number == signal.display_phone_number
            ]
        return [n for n, s in self._numbers.items() if s.waba_id == signal.waba_id]

    def view(self) -> dict[str, dict[str, Any]]:
        return {n: s.view() for n, s in sorted(self._numbers.items())}


def _changed(state: NumberState, signal: accounts.AccountSignal) -> NumberState:
    values: dict[str, Any] = {"reported_at": signal.reported_at, "source": "meta"}
    if signal.throughput_mps is not None:
        values["mps"] = max(state.mps, signal.throughput_mps)
    if signal.quality_rating is not None:
        values["quality_rating"] = signal.quality_rating
    if signal.restrictions is not None:
        values["restrictions"] = signal.restrictions
    if signal.limit is not None:
        values["messaging_limit"] = signal.limit.value
    return replace(state, **values)


def _older(reported: datetime | None, kept: datetime | None) -> bool:
    return reported is not None and kept is not None and reported < kept


def _digits(number: str | None) -> str | None:
    digits = "".join(c for c in number or "" if c.isdigit())
    return digits or None
