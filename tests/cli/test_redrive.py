"""The redrive's rules: where a dead letter goes back to, with which headers, and whether it
was already redriven (or whether that can no longer be told)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cli.redrive import parse_id
from shared import deadletters
from shared.deadletters import (
    REDRIVE_OF,
    REDRIVEN_AT,
    REDRIVEN_BY,
    DeadLetter,
    RedriveRefused,
    Search,
    earlier_copies,
    redrive_headers,
    refusal,
    retained_since,
    target,
)
from shared.settings import KafkaSettings

DLQ = "t.wagate.deadletter.v1"


def letter(*extra: tuple[str, bytes], source: bool = True) -> DeadLetter:
    where = {"topic": "t.wagate.intents.v1", "partition": 4, "offset": 17} if source else {}
    headers = deadletters.headers("DecodeError: not a valid intent", "wagate-policy", **where)
    return DeadLetter(DLQ, 2, 9, 1_700_000_000_000, b"1:2", b"{}", (*headers, *extra))


def test_ids_are_partition_and_offset() -> None:
    assert parse_id("3:1042") == (3, 1042)
    for bad in ("3", "3:", ":1", "a:1", "3:-1", "\uff13:1", "3:1:2"):
        with pytest.raises(ValueError, match="PARTITION:OFFSET"):
            parse_id(bad)


def test_a_letter_goes_back_to_its_source_topic_and_partition() -> None:
    assert target(letter(), None) == ("t.wagate.intents.v1", 4)
    assert target(letter(), "t.wagate.decisions.v1") == ("t.wagate.decisions.v1", None)
    assert target(letter(source=False), "t.wagate.intents.v1") == ("t.wagate.intents.v1", None)
    with pytest.raises(RedriveRefused, match="names no source topic"):
        target(letter(source=False), None)


def test_a_letter_goes_back_only_to_one_of_wagates_topics() -> None:
    settings = KafkaSettings(topic_prefix="t.")
    assert deadletters.redrive_target(settings, letter()) == ("t.wagate.intents.v1", 4)
    for elsewhere in ("wagate.intents.v1", "t.someone.elses", DLQ):
        with pytest.raises(RedriveRefused, match="not one of wagate's topics"):
            deadletters.redrive_target(settings, letter(), elsewhere)


def test_the_redriven_record_keeps_its_own_headers_and_says_where_it_came_from() -> None:
    trace = ("traceparent", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    earlier = (REDRIVE_OF, b"t.wagate.deadletter.v1:0:1")
    headers = redrive_headers(
        letter(trace, earlier), "alice", datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    )
    assert headers == [
        trace,
        (REDRIVE_OF, b"t.wagate.deadletter.v1:2:9"),
        (REDRIVEN_BY, b"alice"),
        (REDRIVEN_AT, b"2026-03-05T09:00:00+00:00"),
    ]
    assert letter().summary()["reason"] == "DecodeError: not a valid intent"
    assert letter().summary()["source_offset"] == 17


@pytest.mark.parametrize(
    ("beginning", "found", "end", "retained"),
    [
        (0, 5, 10, True),  # nothing was ever deleted
        (0, None, 0, True),
        (3, 5, 10, True),  # a record older than the letter is still kept
        (3, 3, 10, False),  # the first kept record is newer: newer ones may be gone
        (3, None, 10, True),  # every kept record is older: nothing newer was deleted
        (10, None, 10, False),  # everything was deleted
    ],
)
def test_whether_a_partition_still_holds_everything_since_a_letter(
    beginning: int, found: int | None, end: int, retained: bool
) -> None:
    assert retained_since(beginning, found, end) is retained


@pytest.mark.parametrize(
    ("search", "state", "again", "refused"),
    [
        (Search(), "not redriven", False, None),
        (Search(copies=((4, 30),)), "redriven", False, "already redriven (at 4:30)"),
        (Search(copies=((4, 30),)), "redriven", True, None),
        (Search(retained=False), "unknown", False, "retention deleted"),
        (Search(replaced=True), "unknown", False, "compaction"),
        (Search(replaced=True), "unknown", True, None),
        (Search(copies=((4, 30),), retained=False), "redriven", False, "already redriven"),
    ],
)
def test_a_redrive_is_refused_when_done_before_or_when_it_cannot_be_told(
    search: Search, state: str, again: bool, refused: str | None
) -> None:
    assert search.state == state
    why = refusal(letter(), search, again)
    assert (why is None) if refused is None else (why is not None and refused in why)


def test_a_redrive_running_at_the_same_time_is_found() -> None:
    search = Search(copies=((4, 30), (4, 31), (5, 2)))
    assert list(earlier_copies(search, (4, 31))) == [(4, 30)]
    assert list(earlier_copies(search, (4, 30))) == []
