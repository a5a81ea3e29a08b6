"""The expected charge of a message, from a dated table of pricing rules shipped as data
(`pricing.json`): the period in force on the day of the decision prices it, and its first
rule matching the category, the window and the free entry point wins. Pure, but for `load`."""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from itertools import product
from pathlib import Path
from typing import Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from services.policy.windows import WindowState
from shared.errors import StartupError

SHIPPED = Path(__file__).with_name("pricing.json")
Category = Literal["SERVICE", "UTILITY", "MARKETING", "AUTHENTICATION"]
CATEGORIES: tuple[Category, ...] = ("SERVICE", "UTILITY", "MARKETING", "AUTHENTICATION")
TEMPLATE_CATEGORIES: dict[str, Category] = {c: c for c in CATEGORIES if c != "SERVICE"}
Window = Literal["inside", "outside", "any"]
Basis = Literal["meta", "reported"]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")  # a misspelt key is an error


class PricingRule(Frozen):
    """One line of a period: the cases it covers (unset: any) and what they cost."""

    category: Category | None = None
    window: Window = "any"
    free_entry_point: bool | None = None
    pricing: str = Field(min_length=1, max_length=64)

    def covers(self, category: Category, csw_open: bool, fep_open: bool) -> bool:
        if self.category is not None and self.category != category:
            return False
        if self.window != "any" and (self.window == "inside") != csw_open:
            return False
        return self.free_entry_point is None or self.free_entry_point == fep_open


class PricingPeriod(Frozen):
    """The rules in force from `effective_from` (a day: from 00:00 UTC; or a time with its UTC
    offset) until the next period's start."""

    effective_from: date | AwareDatetime
    basis: Basis
    source: str = ""
    rules: tuple[PricingRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _prices_every_case(self) -> PricingPeriod:
        for category, csw_open, fep_open in product(CATEGORIES, (True, False), (True, False)):
            if self.price(category, csw_open, fep_open) is None:
                window = "inside" if csw_open else "outside"
                fep = "in" if fep_open else "outside"
                raise ValueError(
                    f"the period from {self.effective_from} prices no {category} message "
                    f"{window} the window, {fep} a free entry point"
                )
        return self

    @property
    def starts_at(self) -> datetime:
        if isinstance(self.effective_from, datetime):
            return self.effective_from
        return datetime.combine(self.effective_from, time(), tzinfo=UTC)

    def price(self, category: Category, csw_open: bool, fep_open: bool) -> str | None:
        return next((r.pricing for r in self.rules if r.covers(category, csw_open, fep_open)), None)


class PricingTable(Frozen):
    about: str = ""
    periods: tuple[PricingPeriod, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_period_a_day(self) -> PricingTable:
        starts = [p.starts_at for p in self.periods]
        if len(set(starts)) != len(starts):
            raise ValueError("two periods start at the same time")
        return self

    def in_force(self, now: datetime) -> PricingPeriod | None:
        """The latest period begun by `now`; None before the first one."""
        index = _schedule(self.periods).index(now)
        return None if index is None else self.periods[index]

    def expected(
        self, category: Category, *, csw_open: bool, fep_open: bool, now: datetime
    ) -> str | None:
        """What the message is expected to cost at `now`; None when no period has begun."""
        schedule = _schedule(self.periods)
        index = schedule.index(now)
        return None if index is None else schedule.prices[index].get((category, csw_open, fep_open))

    def for_message(
        self, template_category: str | None, window: WindowState | None, now: datetime
    ) -> str | None:
        """The expected charge of a template of `template_category` (None: a non-template
        message, SERVICE) sent at `now` to the conversation in `window`. A category the table
        does not know is priced as MARKETING, the dearest: an estimate never says free wrongly."""
        category: Category = "SERVICE"
        if template_category is not None:
            category = TEMPLATE_CATEGORIES.get(template_category.upper(), "MARKETING")
        csw_open = window is not None and window.is_open(now)
        fep_open = window is not None and window.in_free_entry_point(now)
        return self.expected(category, csw_open=csw_open, fep_open=fep_open, now=now)

    def without_reported(self) -> PricingTable:
        """Only the periods Meta itself documents."""
        kept = tuple(p for p in self.periods if p.basis == "meta")
        return self.model_copy(update={"periods": kept})


Case = tuple[Category, bool, bool]  # (category, window open, free entry point open)
CASES: tuple[Case, ...] = tuple(product(CATEGORIES, (True, False), (True, False)))


@dataclass(frozen=True)
class Schedule:
    """The periods' starts, earliest first, and each period's price of every case: what a
    decision looks up, worked out once per table (every decision prices its message)."""

    periods: tuple[PricingPeriod, ...]  # the table's own tuple, which the schedule is of
    starts: tuple[datetime, ...]  # ascending
    order: tuple[int, ...]  # the index in `periods` of each start
    prices: tuple[dict[Case, str | None], ...]  # by index in `periods`

    def index(self, now: datetime) -> int | None:
        """The index of the latest period begun by `now` (the starts are distinct)."""
        begun = bisect_right(self.starts, now)
        return self.order[begun - 1] if begun else None


_SCHEDULES: dict[int, Schedule] = {}  # by the id of the periods' tuple, which each one holds


def _schedule(periods: tuple[PricingPeriod, ...]) -> Schedule:
    """The schedule of these periods. The tables are frozen, so a table's periods never
    change; a table made from another (`without_reported`, `model_copy`) has a tuple of its
    own, so the identity of the tuple says which schedule is its."""
    found = _SCHEDULES.get(id(periods))
    if found is not None and found.periods is periods:
        return found
    ranked = sorted(range(len(periods)), key=lambda i: periods[i].starts_at)
    made = Schedule(
        periods,
        tuple(periods[i].starts_at for i in ranked),
        tuple(ranked),
        tuple({case: p.price(*case) for case in CASES} for p in periods),
    )
    if len(_SCHEDULES) >= 64:  # a few tables per process: the shipped one, a configured one
        _SCHEDULES.clear()
    _SCHEDULES[id(periods)] = made
    return made


def parse(text: str, where: str = "the pricing table") -> PricingTable:
    """The table in `text` (JSON); StartupError naming what is wrong with it."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise StartupError(f"{where} is not JSON: {exc}") from exc
    try:
        return PricingTable.model_validate(raw)
    except ValidationError as exc:
        raise StartupError(f"{where} is not a pricing table: {exc}") from exc


@cache
def shipped() -> PricingTable:
    """The table shipped with wagate, every period in it."""
    return load()


def load(path: Path | None = None, *, reported: bool = True) -> PricingTable:
    """The table at `path` (default: the shipped one), with or without reported periods."""
    source = path or SHIPPED
    try:
        text = source.read_text()
    except OSError as exc:
        raise StartupError(f"the pricing table {source} cannot be read: {exc}") from exc
    table = parse(text, str(source))
    if reported:
        return table
    kept = table.without_reported()
    if not kept.periods:
        raise StartupError(f"the pricing table {source} has no period Meta documents")
    return kept
