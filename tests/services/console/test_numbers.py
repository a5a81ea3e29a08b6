"""A business number's tier, quality, usage against its limit and hold state, read from
Meta's account updates: pure, and on the numbers page over a real read model."""

from __future__ import annotations

import re
from typing import Any

import pytest

from services.console import numbers
from shared.events.account import AccountUpdateReported
from tests.services.console import facts
from tests.services.console.conftest import Console

NOW = facts.at(3600)
LATER = int(facts.at(7200).timestamp())
EARLIER = int(facts.at(1800).timestamp())


def _row(field: str, seconds: float, event: str | None = None, number: str | None = None,
         **details: Any) -> dict[str, Any]:  # fmt: skip
    return {"waba_id": facts.WABA, "field": field, "event": event, "details": details,
            "display_phone_number": number, "occurred_at": facts.at(seconds)}  # fmt: skip


def _ban(seconds: float, state: str) -> dict[str, Any]:
    return _row("account_update", seconds, "DISABLED_UPDATE", ban_info={"waba_ban_state": state})


def _restricted(seconds: float, *items: object) -> dict[str, Any]:
    return _row("account_update", seconds, "ACCOUNT_RESTRICTION", restriction_info=list(items))


BIZ = "RESTRICTED_BIZ_INITIATED_MESSAGING"


@pytest.mark.parametrize(
    ("rows", "holds"),
    [
        ([], {}),
        ([_ban(1, "DISABLE")], {"ban": "disabled by Meta"}),
        ([_ban(1, "SCHEDULE_FOR_DISABLE")], {"ban": "scheduled to be disabled"}),
        ([_ban(1, "DISABLE"), _ban(2, "REINSTATE")], {}),
        ([_ban(2, "REINSTATE"), _ban(1, "DISABLE")], {}),  # the latest wins, not the last read
        ([_ban(1, "SOMETHING_NEW")], {}),
        ([_restricted(1, {"restriction_type": BIZ, "expiration": LATER})],
         {"restriction": f"restricted: {BIZ} until 2026-11-25T11:00:00+00:00"}),
        ([_restricted(1, {"restriction_type": BIZ, "expiration": EARLIER})], {}),  # expired
        ([_restricted(1, {"restriction_type": BIZ})], {"restriction": f"restricted: {BIZ}"}),
        ([_restricted(1, {"restriction_type": BIZ}), _restricted(2)], {}),  # lifted
        ([_restricted(1, "junk", 5, {"restriction_type": BIZ, "expiration": "soon"},
                      {"expiration": 10**30})],
         {"restriction": f"restricted: {BIZ}, a restriction"}),
        ([_row("account_update", 1, "DISABLED_UPDATE", ban_info="DISABLE")], {}),
        ([_row("account_update", 1, "ACCOUNT_VIOLATION", violation_info={"x": 1})], {}),
    ],
)  # fmt: skip
def test_holds_come_from_bans_and_restrictions(
    rows: list[dict[str, Any]], holds: dict[str, str]
) -> None:
    found = numbers.facts(rows, NOW).get(f"waba:{facts.WABA}", numbers.NumberFacts())
    assert found.holds == holds and found.held is bool(holds)


@pytest.mark.parametrize(
    ("reached", "limit", "words"),
    [
        (500, "TIER_2K", "500 of 2,000 (25%)"),
        (250, "TIER_250", "250 of 250 (100%)"),
        (7, "1000", "7 of 1,000 (1%)"),
        (7, "TIER_UNLIMITED", "7 (unlimited)"),
        (7, None, "7"),
        (7, "TIER_NOT_SET", "7"),
        (7, "0", "7"),
    ],
)
def test_usage_is_against_the_limit_when_it_is_known(
    reached: int, limit: str | None, words: str
) -> None:
    assert numbers.usage_words(reached, limit) == words


def test_a_number_takes_its_accounts_newer_limit_and_every_hold() -> None:
    rows = [
        _row("phone_number_quality_update", 1, "FLAGGED", "15550001111",
             max_daily_conversations_per_business="TIER_250"),
        _row("business_capability_update", 2, max_daily_conversations_per_business="TIER_10K"),
        _ban(3, "DISABLE"),
    ]  # fmt: skip
    accounts = numbers.facts(rows, NOW)
    found = numbers.of_number(accounts, "15550001111", facts.WABA)
    assert (found.limit, found.quality, found.holds) == ("TIER_10K", "FLAGGED",
                                                         {"ban": "disabled by Meta"})  # fmt: skip
    alone = numbers.of_number(accounts, "15550001111", None)
    assert (alone.limit, alone.holds) == ("TIER_250", {})


def _update(field: str, seconds: float, event: str | None = None, **details: Any) -> Any:
    return AccountUpdateReported(
        field=field, waba_id=facts.WABA, event=event, details=details,
        occurred_at=facts.at(seconds),
    )  # fmt: skip


@pytest.mark.postgres
async def test_the_numbers_page_shows_tier_quality_usage_and_hold(console: Console) -> None:
    reached = [facts.reply(f"mkt-{i}").model_copy(update={"to": f"1650555{i:04d}"})
               for i in range(3)]  # fmt: skip
    await console.store.write(facts.batch_of([
        *(facts.decided(r, "approved", [], 100 + i, pricing="marketing")
          for i, r in enumerate(reached)),
        _update("account_update", 200, "ACCOUNT_RESTRICTION",
                restriction_info=[{"restriction_type": BIZ, "expiration": LATER}]),
        _update("phone_number_quality_update", 210, "FLAGGED",
                display_phone_number="15550001111"),
        _update("account_update", 220, "ACCOUNT_VIOLATION", violation_info={"type": "x"}),
    ]))  # fmt: skip
    status, page = await console.get("/numbers")
    assert status == 200
    row = page.split('<tr class="number">')[1].split("</tr>")[0]
    assert '<td class="limit">TIER_2K</td>' in row and '<td class="quality">FLAGGED</td>' in row
    assert '<td class="usage">3 of 2,000 (0%)</td>' in row
    assert re.search(rf'<td class="hold"><span class="state state-held">held</span> '
                     rf"restricted: {BIZ} until 2026-11-25T11:00:00\+00:00</td>", row)  # fmt: skip
    await console.store.write(facts.batch_of([
        _update("account_update", 300, "ACCOUNT_RESTRICTION", restriction_info=[]),
    ]))  # fmt: skip
    _, page = await console.get("/numbers")
    assert '<td class="hold">none</td>' in page.split('<tr class="number">')[1]
