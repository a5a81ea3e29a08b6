"""Dispatch's live account state: Meta's throughput upgrade raises a number's rate, its
quality and restrictions are kept, an older report changes nothing, and Meta's stop of a WABA
or portfolio holds its other numbers until a signal of Meta's releases them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.dispatch import account_feed
from services.dispatch.accounts import AccountBook
from services.dispatch.circuit import CircuitState
from services.dispatch.settings import DispatchSettings
from shared import codec
from shared.events.account import AccountUpdateReported
from tests.conftest import SEALING_KEY
from tests.services.dispatch.conftest import Shell, approved
from tests.services.dispatch.test_handlers import _error

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NUMBERS = {
    "pn-1": {"waba_id": "w-1", "display_phone_number": "+1 555-000-1111", "mps": 80},
    "pn-2": {"waba_id": "w-1", "display_phone_number": "15550002222"},
    "pn-3": {"waba_id": "w-2", "display_phone_number": "15550003333"},
}


@pytest.fixture
def rig_settings() -> dict[str, Any]:
    return {
        "sealing_keys": [SEALING_KEY], "group": "test", "backlog_high": 3, "backlog_low": 1,
        "numbers": NUMBERS, "sender_hold_s": 600.0,
    }  # fmt: skip


def _book() -> AccountBook:
    return AccountBook(DispatchSettings(sealing_keys=[SEALING_KEY], numbers=NUMBERS))  # type: ignore[arg-type]


def _update(
    field: str, details: dict[str, Any], *, waba: str = "w-1", at: datetime = AT
) -> AccountUpdateReported:
    event = details.get("event")
    return AccountUpdateReported(
        producer="ingest", field=field, waba_id=waba, event=event, reported_at=at,
        display_phone_number=details.get("display_phone_number"), details=details,
    )  # fmt: skip


UPGRADE = {
    "display_phone_number": "15550001111",
    "event": "THROUGHPUT_UPGRADE",
    "max_daily_conversations_per_business": "TIER_UNLIMITED",
}


def test_a_throughput_upgrade_raises_only_the_number_it_names() -> None:
    book = _book()
    applied = book.apply(_update("phone_number_quality_update", UPGRADE))
    assert applied.retuned == {"pn-1": 1000.0} and applied.released == ("pn-1",)
    view = book.view()
    assert view["pn-1"]["mps"] == 1000.0 and view["pn-1"]["source"] == "meta"
    assert view["pn-1"]["messaging_limit"] is None  # unlimited
    assert view["pn-2"]["mps"] == 80.0 and view["pn-2"]["source"] == "settings"


def test_an_older_report_changes_nothing_and_a_repeat_retunes_nothing() -> None:
    book = _book()
    book.apply(_update("phone_number_quality_update", UPGRADE))
    assert book.apply(_update("phone_number_quality_update", UPGRADE)).retuned == {}
    late = {"display_phone_number": "15550001111", "quality_rating": "RED"}
    book.apply(_update("phone_number_quality_update", late, at=AT - timedelta(hours=1)))
    assert book.view()["pn-1"]["quality_rating"] is None


def test_waba_wide_updates_reach_every_number_of_the_waba() -> None:
    book = _book()
    restricted = {"restriction_info": [{"restriction_type": "RESTRICTED_BIZ_INITIATED_MESSAGING"}]}
    applied = book.apply(_update("account_update", restricted))
    assert applied.released == ()
    view = book.view()
    assert (
        view["pn-1"]["restrictions"]
        == view["pn-2"]["restrictions"]
        == ["RESTRICTED_BIZ_INITIATED_MESSAGING"]
    )
    assert view["pn-3"]["restrictions"] == []
    lifted = book.apply(_update("account_update", {"restriction_info": []}, at=AT + timedelta(1)))
    assert lifted.released == ("pn-1", "pn-2") and book.view()["pn-1"]["restrictions"] == []
    limit = book.apply(
        _update("business_capability_update", {"max_daily_conversations_per_business": "TIER_10K"},
                waba="w-2", at=AT + timedelta(2))
    )  # fmt: skip
    assert limit.released == ("pn-3",) and book.view()["pn-3"]["messaging_limit"] == 10_000


def test_an_unknown_number_or_waba_changes_nothing() -> None:
    book = _book()
    other = {**UPGRADE, "display_phone_number": "15559999999"}
    assert book.apply(_update("phone_number_quality_update", other)).retuned == {}
    assert (
        book.apply(_update("account_update", {"restriction_info": []}, waba="w-9")).released == ()
    )


def test_the_feed_skips_a_record_that_is_no_account_update() -> None:
    seen: list[AccountUpdateReported] = []
    assert account_feed.one(b"{not json", seen.append) is False
    assert account_feed.one(None, seen.append) is False
    update = _update("phone_number_quality_update", UPGRADE)
    assert account_feed.one(codec.encode(update), seen.append) is True and seen == [update]


async def test_an_upgrade_raises_the_senders_rate(shell: Shell) -> None:
    sender = shell.dispatch.senders.get("pn-1")
    before = sender.bucket.rate
    shell.dispatch.on_account(_update("phone_number_quality_update", UPGRADE))
    assert before == pytest.approx(80 * 0.97) and sender.bucket.rate == pytest.approx(1000 * 0.97)
    assert sender.bucket.burst == pytest.approx(max(1.0, 1000 * 0.97 * 0.02))


@pytest.mark.parametrize(("code", "others_held"), [(131048, True), (368, True), (190, False)])
async def test_metas_stop_holds_the_wabas_other_numbers_until_a_signal_releases_them(
    shell: Shell, code: int, others_held: bool
) -> None:
    senders = shell.dispatch.senders
    second, elsewhere = senders.get("pn-2"), senders.get("pn-3")
    shell.api.script("i-1", _error(code))
    await shell.decide(approved("i-1", number="pn-1"))
    first = senders.get("pn-1")
    await shell.wait_for(lambda: first.circuit.state is CircuitState.OPEN)
    assert shell.states("i-1") == ["held"]
    assert (second.circuit.state is CircuitState.OPEN) is others_held
    assert elsewhere.circuit.state is CircuitState.CLOSED  # another WABA
    if others_held:  # Meta's own hold, not the credentials' cool-down
        assert first.circuit.reopens_in(time.monotonic()) > 500
        lifted = _update("account_update", {"restriction_info": []})
        shell.dispatch.on_account(lifted)
        await shell.wait_for(lambda: shell.states("i-1") == ["held", "accepted"])
        assert first.circuit.state is CircuitState.CLOSED


def test_metas_stop_holds_an_hour_unless_configured() -> None:
    assert DispatchSettings(sealing_keys=[SEALING_KEY]).sender_hold_s == 3600.0  # type: ignore[arg-type]
