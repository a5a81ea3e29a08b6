"""`wagate tail` filters."""

from __future__ import annotations

import click
import pytest

from cli.tail_cmd import Match, parse_filters, resolve

EVENT = {
    "intent_id": "i-1",
    "state": "rejected",
    "metadata": {"order": "42"},
    "intent": {"intent_id": "i-1", "to": "16505551234"},
    "reasons": ["WINDOW_CLOSED"],
}


@pytest.mark.parametrize(
    ("fields", "key", "matches"),
    [
        ({}, None, True),
        ({"state": "rejected"}, None, True),
        ({"state": "delivered"}, None, False),
        ({"metadata.order": "42", "intent.to": "16505551234"}, None, True),
        ({"metadata.order": "43"}, None, False),
        ({"metadata.missing": "x"}, None, False),
        ({"reasons": '["WINDOW_CLOSED"]'}, None, True),
        ({}, "1:2", True),
        ({}, "1:3", False),
    ],
)
def test_match(fields: dict[str, str], key: str | None, matches: bool) -> None:
    assert Match(fields, key)(b"1:2", EVENT) is matches


def test_filters_and_topics_are_checked() -> None:
    assert parse_filters(("a.b=1", "c==")) == {"a.b": "1", "c": "="}
    with pytest.raises(click.BadParameter):
        parse_filters(("nofield",))
    assert resolve("delivery") == "wagate.delivery.v1"
    assert resolve("wagate.intents.v1") == "wagate.intents.v1"
    with pytest.raises(click.BadParameter, match="known"):
        resolve("nope")
