"""Policy's live account state: each business portfolio's messaging limit as Meta last
reported it (`wagate.account.updates.v1`), kept in the global `accounts` table so every worker
decides with it. Settings give the value until Meta reports one; Meta's reports win, the
latest by Meta's time (a replayed or late older report changes nothing)."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.policy.rules import PolicyConfig
from shared import accounts, logs
from shared.events.account import AccountUpdateReported

log = logs.get(__name__)


@dataclass
class Accounts:
    table: MutableMapping[str, Any]  # portfolio id -> {"limit", "reported_at", "field", "waba_id"}
    config: PolicyConfig

    def on_update(self, update: AccountUpdateReported) -> bool:
        """Keep the limit an account update reports; whether it changed the table."""
        signal = accounts.read(update)
        if signal.limit is None:
            return False
        portfolio = self.config.consent.portfolio_ids.get(
            update.waba_id, self.config.consent.default_portfolio_id
        )
        known = self.table.get(portfolio)
        if known and _later(known.get("reported_at"), signal.reported_at):
            return False
        self.table[portfolio] = {
            "limit": signal.limit.value,
            "reported_at": signal.reported_at.isoformat() if signal.reported_at else None,
            "field": update.field,
            "waba_id": update.waba_id,
        }
        log.info("messaging limit reported", portfolio=portfolio, limit=signal.limit.value)
        return True

    def limit_for(self, phone_number_id: str) -> int | None:
        """The messaging limit of the number's portfolio now (None: unlimited)."""
        portfolio = self.config.portfolio_for(phone_number_id)
        known = self.table.get(portfolio)
        if known is None:
            return self.config.initial_limit(portfolio)
        value = known.get("limit")
        return int(value) if value is not None else None

    def view(self) -> dict[str, Any]:
        """Every portfolio's limit as `GET /accounts` shows it: reported, else configured."""
        shown: dict[str, Any] = {
            portfolio: {"limit": limit, "source": "settings"}
            for portfolio, limit in self.config.messaging_limits.items()
        }
        default = self.config.consent.default_portfolio_id
        shown.setdefault(default, {"limit": self.config.messaging_limit, "source": "settings"})
        for portfolio, known in list(self.table.items()):
            shown[str(portfolio)] = {**known, "source": "meta"}
        return shown


def _later(kept: str | None, reported: datetime | None) -> bool:
    """The kept report is newer than this one (an undated report never beats a dated one)."""
    if kept is None:
        return False
    if reported is None:
        return True
    return datetime.fromisoformat(kept) > reported
