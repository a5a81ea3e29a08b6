"""The chaos runs' expected outcomes follow the rule from the state set up, the tally counts
a send or a refusal the rule did not call for, and lag is end offsets minus commits."""

from __future__ import annotations

import random

import pytest
from aiokafka.structs import TopicPartition

from shared.events.delivery import DeliveryUpdated
from shared.events.intents import TemplateContent
from shared.events.reasons import Reason
from tests.chaos.lag import lag
from tests.chaos.tally import Tally
from tests.chaos.workload import SEND, Customer, Expected, expected, intents

R = Reason
OPEN = Customer("1604000", window=True)
CLOSED = Customer("1604001", window=False)
NO_OPT_IN = Customer("1604002", window=False, opted_in=False)
OUT = Customer("1604003", window=True, marketing_out=True)
CAPPED = Customer("1604004", window=True, marketing_sent=1)


def refused(*reasons: Reason) -> Expected:
    return Expected(False, frozenset(reasons))


@pytest.mark.parametrize(
    ("customer", "kind", "fallback", "outcome"),
    [
        (OPEN, "text", None, SEND),
        (CLOSED, "text", None, refused(R.WINDOW_CLOSED)),
        (CLOSED, "text", "utility", SEND),
        (OPEN, "text", "paused", SEND),  # the window is open: the text goes, not the fallback
        (CLOSED, "text", "paused", refused(R.WINDOW_CLOSED, R.TEMPLATE_PAUSED)),
        (NO_OPT_IN, "text", "utility", refused(R.WINDOW_CLOSED, R.NO_OPT_IN)),
        (CLOSED, "utility", None, SEND),
        (NO_OPT_IN, "utility", None, refused(R.NO_OPT_IN)),
        (OPEN, "paused", None, refused(R.TEMPLATE_PAUSED)),
        (OPEN, "pending", None, refused(R.TEMPLATE_NOT_APPROVED)),
        (OPEN, "disabled", None, refused(R.TEMPLATE_NOT_APPROVED)),
        (OPEN, "rejected", None, refused(R.TEMPLATE_NOT_APPROVED)),
        (OPEN, "marketing", None, SEND),
        (OUT, "marketing", None, refused(R.MARKETING_OPTED_OUT)),
        (OUT, "utility", None, SEND),  # the opt-out names marketing only
        (CAPPED, "marketing", None, refused(R.MARKETING_FREQUENCY_CAP)),
        (CAPPED, "utility", None, SEND),
        (NO_OPT_IN, "marketing", None, refused(R.NO_OPT_IN)),
    ],
)
def test_the_expected_outcome_follows_the_rule(
    customer: Customer, kind: str, fallback: str | None, outcome: Expected
) -> None:
    assert expected(customer, kind, fallback) == outcome


def test_a_customers_second_marketing_message_of_the_day_is_expected_refused() -> None:
    crowd = [Customer("1604100", window=False)]
    made = intents(random.Random(3), "t", crowd, 200)
    marketing = [
        made.expected[i.intent_id]
        for i in made.intents
        if isinstance(i.content, TemplateContent) and i.content.name == "loyalty_follow_up"
    ]
    assert marketing and marketing[0] == SEND
    assert set(marketing[1:]) == {refused(R.MARKETING_FREQUENCY_CAP)}
    assert crowd[0].marketing_sent == 1


def _update(intent_id: str, state: str, *reasons: str) -> DeliveryUpdated:
    return DeliveryUpdated(
        intent_id=intent_id,
        phone_number_id="106540352242922",
        to="1604000",
        state=state,  # type: ignore[arg-type]
        reasons=list(reasons),
        event_id=f"{intent_id}-{state}",
    )


def test_the_tally_counts_wrong_outcomes_and_refusals_of_allowed_sends() -> None:
    rules = {
        "right-refusal": refused(R.WINDOW_CLOSED),
        "other-reason": refused(R.WINDOW_CLOSED),
        "sent-anyway": refused(R.TEMPLATE_PAUSED),
        "allowed": SEND,
        "allowed-refused": SEND,
        "allowed-failed": SEND,
    }
    tally = Tally(list(rules), rules)
    tally.add(_update("right-refusal", "rejected", "WINDOW_CLOSED"))
    tally.add(_update("other-reason", "rejected", "NO_OPT_IN"))
    tally.add(_update("sent-anyway", "accepted"))
    tally.add(_update("sent-anyway", "delivered"))
    tally.add(_update("allowed", "delivered"))
    tally.add(_update("allowed-refused", "rejected", "MARKETING_FREQUENCY_CAP"))
    tally.add(_update("allowed-failed", "failed", "RETRIES_EXHAUSTED"))  # a fault may do that
    figures = tally.figures({"sent-anyway": 1, "allowed": 1}, 0)

    assert figures["wrong outcome"] == 2  # other-reason, sent-anyway
    assert figures["refused though allowed"] == 1
    assert [tally.wrong(i, {"sent-anyway": 1}) for i in rules] == [
        False, True, True, False, False, False,
    ]  # fmt: skip


def test_lag_is_the_end_offsets_minus_the_commits() -> None:
    a, b = TopicPartition("t", 0), TopicPartition("t", 1)
    assert lag({a: 10, b: 4}, {a: 10, b: 9}) == 5
    assert lag({a: 12}, {a: 10}) == 0  # never negative
