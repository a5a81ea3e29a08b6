"""Pure circuit breaker of one business number: credentials or permissions refused (§5 HALT)
open it, its intents are held, and after a cool-down one probe send decides."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CircuitState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class Circuit:
    cooldown_s: float = 30.0
    max_cooldown_s: float = 600.0
    state: CircuitState = CircuitState.CLOSED
    opened_at: float = 0.0
    current_cooldown_s: float = 0.0

    def allows(self, now: float) -> bool:
        """Whether a send may go now; an open circuit past its cool-down lets one probe through."""
        if self.state is CircuitState.OPEN and now >= self.opened_at + self.current_cooldown_s:
            self.state = CircuitState.HALF_OPEN
            return True
        return self.state is CircuitState.CLOSED

    def reopens_in(self, now: float) -> float:
        if self.state is not CircuitState.OPEN:
            return 0.0
        return max(0.0, self.opened_at + self.current_cooldown_s - now)

    def refused(self, now: float) -> None:
        """Meta refused the credentials: open, each reopening doubling the cool-down."""
        if self.state is CircuitState.CLOSED:
            self.current_cooldown_s = self.cooldown_s
        else:
            self.current_cooldown_s = min(self.current_cooldown_s * 2, self.max_cooldown_s)
        self.state = CircuitState.OPEN
        self.opened_at = now

    def hold(self, now: float, seconds: float) -> None:
        """Meta stopped the sender: open for `seconds` (its own hold, not the credentials')."""
        self.state = CircuitState.OPEN
        self.opened_at = now
        self.current_cooldown_s = max(seconds, self.reopens_in(now))

    def release(self) -> None:
        """Meta said the sender may send again: an open circuit lets a probe through now."""
        if self.state is CircuitState.OPEN:
            self.current_cooldown_s = 0.0

    def inconclusive(self, now: float) -> None:
        """The probe got no answer from Meta: stay open for another cool-down."""
        if self.state is CircuitState.HALF_OPEN:
            self.state = CircuitState.OPEN
            self.opened_at = now

    def succeeded(self) -> None:
        self.state = CircuitState.CLOSED
        self.current_cooldown_s = 0.0
