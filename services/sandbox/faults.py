"""Fault injection, seeded so a run repeats: what goes wrong with an API call or a webhook.

Pure: the decisions take a `random.Random` owned by the caller and the configured rates."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

K = TypeVar("K")


class Faults(BaseModel):
    """Rates are probabilities in [0, 1] applied independently to each call or webhook."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    server_error_rate: float = Field(default=0.0, ge=0, le=1)
    unavailable_rate: float = Field(
        default=0.0, ge=0, le=1, description="HTTP 503 with 131016 (Service unavailable)."
    )
    timeout_rate: float = Field(default=0.0, ge=0, le=1)
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    throttle_rate: float = Field(default=0.0, ge=0, le=1)
    throttle_burst: int = Field(default=5, ge=1, description="Sends throttled once a burst starts.")
    throttle_window_s: float = Field(
        default=0.0,
        ge=0,
        description="When above 0, a burst refuses every send for this many seconds instead "
        "of `throttle_burst` sends.",
    )
    timeout_s: float = Field(default=15.0, ge=0)
    reengage_rate: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Free-form sends accepted, then failed with 131047 in a status, as when "
        "Meta's clock has closed a window the sender still saw open (not a violation).",
    )
    webhook_duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_reorder_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_delay_rate: float = Field(default=0.0, ge=0, le=1)
    webhook_delay_s: float = Field(default=2.0, ge=0)
    webhook_bad_signature_rate: float = Field(default=0.0, ge=0, le=1)
    strike_within: int = Field(
        default=0,
        ge=0,
        description="When above 0, every fault whose rate is above 0 strikes at least once in "
        "each this-many API calls (or webhooks), outside a throttling window: one the draws have "
        "not chosen for nearly that long is forced on a call they leave alone, so a short run "
        "meets every kind. Needs a span at least the number of rated kinds.",
    )

    @model_validator(mode="after")
    def _span_fits_the_kinds(self) -> Faults:
        rated = max(
            sum(rate > 0 for rate in _rated_api(self).values()),
            sum(rate > 0 for rate in _rated_webhook(self).values()),
        )
        if 0 < self.strike_within < rated:
            raise ValueError(
                f"strike_within={self.strike_within} cannot meet {rated} rated fault kinds "
                f"in each span: it needs at least {rated}"
            )
        return self


class ApiFault(StrEnum):
    SERVER_ERROR = "server_error"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    DROP = "drop"
    THROTTLE = "throttle"


def api_fault(rng: random.Random, faults: Faults, throttled_left: int) -> ApiFault | None:
    """The fault this API call suffers, if any. A throttling burst in progress wins."""
    if throttled_left > 0:
        return ApiFault.THROTTLE
    for fault, rate in _rated_api(faults).items():
        if rate > 0 and rng.random() < rate:
            return fault
    return None


@dataclass(frozen=True)
class WebhookPlan:
    copies: int = 1
    delay_s: float = 0.0
    hold_for_reorder: bool = False
    bad_signature: bool = False


def _rated_api(faults: Faults) -> dict[ApiFault, float]:
    return {
        ApiFault.SERVER_ERROR: faults.server_error_rate,
        ApiFault.UNAVAILABLE: faults.unavailable_rate,
        ApiFault.TIMEOUT: faults.timeout_rate,
        ApiFault.DROP: faults.drop_rate,
        ApiFault.THROTTLE: faults.throttle_rate,
    }


class Mangling(StrEnum):
    DUPLICATE = "duplicate"
    DELAY = "delay"
    REORDER = "reorder"
    BAD_SIGNATURE = "bad_signature"


def _rated_webhook(faults: Faults) -> dict[Mangling, float]:
    return {
        Mangling.DUPLICATE: faults.webhook_duplicate_rate,
        Mangling.DELAY: faults.webhook_delay_rate,
        Mangling.REORDER: faults.webhook_reorder_rate,
        Mangling.BAD_SIGNATURE: faults.webhook_bad_signature_rate,
    }


class Overdue(Generic[K]):
    """How long each rated kind has gone unchosen, and the one past `within`, most overdue first."""

    def __init__(self, rates: Mapping[K, float], within: int) -> None:
        self._within = within
        self._since = {kind: 0 for kind, rate in rates.items() if rate > 0 and within > 0}

    def due(self) -> K | None:
        # one kind is forced per call, so each starts being due early enough for all of them
        # to be forced in turn within the span
        late = [
            (n, kind) for kind, n in self._since.items() if n + len(self._since) >= self._within
        ]
        return max(late, key=lambda pair: pair[0])[1] if late else None

    def record(self, struck: set[K]) -> None:
        for kind in self._since:
            self._since[kind] = 0 if kind in struck else self._since[kind] + 1


def webhook_plan(rng: random.Random, faults: Faults) -> WebhookPlan:
    """How one webhook is mangled: duplicated, delayed, held back behind the next, badly signed."""
    return plan_of(manglings(rng, faults), faults)


def manglings(rng: random.Random, faults: Faults) -> set[Mangling]:
    """The manglings drawn for one webhook, each by its own rate."""
    return {
        kind for kind, rate in _rated_webhook(faults).items() if rate > 0 and rng.random() < rate
    }


def plan_of(struck: set[Mangling], faults: Faults) -> WebhookPlan:
    return WebhookPlan(
        copies=2 if Mangling.DUPLICATE in struck else 1,
        delay_s=faults.webhook_delay_s if Mangling.DELAY in struck else 0.0,
        hold_for_reorder=Mangling.REORDER in struck,
        bad_signature=Mangling.BAD_SIGNATURE in struck,
    )


class FaultBoard:
    """The faults in force and their seeded random sources, shared by the API and the sender."""

    def __init__(
        self, faults: Faults, seed: int | None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._clock = clock
        self.configure(faults, seed)

    def configure(self, faults: Faults, seed: int | None) -> None:
        self.faults = faults
        self.seed = seed
        self._api = random.Random(seed)
        self._webhooks = random.Random(None if seed is None else seed + 1)
        self._throttled_left = 0
        self._throttled_until = 0.0
        self._api_overdue = Overdue(_rated_api(faults), faults.strike_within)
        self._webhook_overdue = Overdue(_rated_webhook(faults), faults.strike_within)

    def next_api_fault(self) -> ApiFault | None:
        """The next call's fault. A burst of throttling lasts `throttle_burst` calls, or
        `throttle_window_s` seconds when that is set (every call meanwhile is refused)."""
        now = self._clock()
        in_window = now < self._throttled_until
        fault = api_fault(self._api, self.faults, 1 if in_window else self._throttled_left)
        if fault is None:
            fault = self._api_overdue.due()
        self._api_overdue.record(set() if fault is None else {fault})
        if fault is ApiFault.THROTTLE and not in_window:
            if self._throttled_left > 0:
                self._throttled_left -= 1
            elif self.faults.throttle_window_s > 0:
                self._throttled_until = now + self.faults.throttle_window_s
            else:
                self._throttled_left = self.faults.throttle_burst - 1
        return fault

    def refuses_window(self, free_form: bool) -> bool:
        """Whether this accepted free-form send fails later with 131047 (`reengage_rate`)."""
        rate = self.faults.reengage_rate
        return free_form and rate > 0 and self._api.random() < rate

    def next_webhook_plan(self) -> WebhookPlan:
        struck = manglings(self._webhooks, self.faults)
        due = self._webhook_overdue.due()
        if due is not None:
            struck.add(due)
        self._webhook_overdue.record(struck)
        return plan_of(struck, self.faults)
