"""Which intents a template's state stopped, and which state change caused each: pure, and
over a real read model on the template's page."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from services.console.template_effects import affected, cause_of, per_change
from shared.events.intents import OutboundIntentSubmitted, TemplateContent
from shared.events.template_states import TemplateStateChanged
from tests.services.console import facts
from tests.services.console.conftest import Console

HISTORY = [
    {"event_id": "v1", "version": 1, "status": "APPROVED", "occurred_at": facts.at(0)},
    {"event_id": "v2", "version": 2, "status": "PAUSED", "occurred_at": facts.at(100)},
    {"event_id": "v3", "version": 3, "status": "DISABLED", "occurred_at": facts.at(200)},
]


def _outcome(intent_id: str, seconds: float, reasons: list[str], kind: str = "decision",
             outcome: str = "rejected") -> dict[str, object]:  # fmt: skip
    return {"kind": kind, "intent_id": intent_id, "outcome": outcome, "reasons": reasons,
            "occurred_at": facts.at(seconds)}  # fmt: skip


@pytest.mark.parametrize(
    ("seconds", "cause"),
    [(-1, None), (0, "v1"), (99, "v1"), (100, "v2"), (150, "v2"), (200, "v3"), (9999, "v3")],
)
def test_the_cause_is_the_latest_change_at_or_before(seconds: float, cause: str | None) -> None:
    found = cause_of(HISTORY, facts.at(seconds))
    assert (found["event_id"] if found else None) == cause


@pytest.mark.parametrize(
    ("outcomes", "expected"),
    [
        ([_outcome("a", 120, ["TEMPLATE_PAUSED"])], [("a", "policy", ("TEMPLATE_PAUSED",), "v2")]),
        ([_outcome("a", 210, ["132016"], "delivery", "failed")],
         [("a", "meta", ("132016",), "v3")]),
        ([_outcome("a", 130, ["FALLBACK_TEMPLATE", "TEMPLATE_NOT_APPROVED"])],
         [("a", "policy", ("TEMPLATE_NOT_APPROVED",), "v2")]),
        ([_outcome("a", 50, ["WINDOW_CLOSED"]), _outcome("b", 60, ["131047"], "delivery")], []),
        ([_outcome("a", 120, ["TEMPLATE_PAUSED"]), _outcome("a", 220, ["132016"], "delivery")],
         [("a", "policy", ("TEMPLATE_PAUSED",), "v2")]),  # once, at its first stop
        ([_outcome("a", -5, ["TEMPLATE_UNKNOWN"])], [("a", "policy", ("TEMPLATE_UNKNOWN",), None)]),
        ([_outcome("a", 120, ["132015"], "delivery", "failed"), _outcome("b", 230, ["132001"])],
         [("b", "policy", ("132001",), "v3"), ("a", "meta", ("132015",), "v2")]),
    ],
)  # fmt: skip
def test_an_intent_is_affected_only_by_a_template_reason(
    outcomes: list[dict[str, object]], expected: list[tuple[object, ...]]
) -> None:
    found = affected(HISTORY, outcomes)
    assert [(a.intent_id, a.by, a.reasons, a.cause["event_id"] if a.cause else None)
            for a in found] == expected  # fmt: skip


def test_each_change_counts_the_intents_it_stopped() -> None:
    found = affected(HISTORY, [_outcome("a", 120, ["TEMPLATE_PAUSED"]),
                               _outcome("b", 150, ["132015"], "delivery"),
                               _outcome("c", 250, ["132016"], "delivery")])  # fmt: skip
    assert per_change(found) == {"v2": 2, "v3": 1}


def _named(intent_id: str, name: str = "shipping_update") -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=intent_id, phone_number_id=facts.NUMBER, to=facts.CUSTOMER,
        content=TemplateContent(name=name, language="en_US"), occurred_at=facts.at(110),
    )  # fmt: skip


def _paused(at: datetime) -> TemplateStateChanged:
    return TemplateStateChanged(
        waba_id=facts.WABA, name="shipping_update", language="en_US", category="UTILITY",
        status="PAUSED", quality="RED", version=3, occurred_at=at,
    )  # fmt: skip


@pytest.mark.postgres
async def test_the_template_page_lists_the_intents_its_pause_stopped(console: Console) -> None:
    paused, failed, other, fine = _named("t-paused"), _named("t-failed"), _named(
        "t-other", "welcome"), _named("t-fine")  # fmt: skip
    await console.store.write(facts.batch_of([
        _paused(facts.at(100)),
        facts.decided(paused, "rejected", ["TEMPLATE_PAUSED"], 120),
        facts.decided(failed, "approved", [], 90, pricing="utility"),
        facts.updated(failed, "failed", 125, reasons=["132015"]),
        facts.decided(other, "rejected", ["TEMPLATE_PAUSED"], 120),
        facts.decided(fine, "rejected", ["WINDOW_CLOSED"], 121),
    ]))  # fmt: skip
    status, page = await console.get(f"/templates/{facts.WABA}/shipping_update/en_US")
    assert status == 200
    section = page.split('id="affected"')[1].split("</table>")[0]
    assert re.findall(r'<a href="/intents/([^"]+)">', section) == ["t-failed", "t-paused"]
    assert "Meta (failed)" in section and "policy (rejected)" in section
    assert section.count('PAUSED <span class="muted">version 3') == 2
    assert re.findall(r'<td class="stopped">(\d+)</td>', page) == ["0", "0", "2"]
