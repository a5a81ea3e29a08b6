"""Option values: ISO 8601 instants (UTC without an offset), strict JSON, finite numbers,
URLs, Kafka addresses and topic prefixes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.params import (
    FILE_MAX,
    Number,
    Seconds,
    bootstrap_problem,
    json_arg,
    json_value,
    parse_instant,
    read_text,
    topic_prefix_problem,
    url_problem,
)

OFFSETS = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-23 * 60 - 59, 23 * 60 + 59)
)
INSTANTS = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(9998, 12, 30), timezones=OFFSETS
)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2026-03-05T09:00:00", datetime(2026, 3, 5, 9, tzinfo=UTC)),
        ("2026-03-05T09:00:00Z", datetime(2026, 3, 5, 9, tzinfo=UTC)),
        ("2026-03-05T10:00:00+01:00", datetime(2026, 3, 5, 9, tzinfo=UTC)),
        ("2026-03-05T04:30:00-04:30", datetime(2026, 3, 5, 9, tzinfo=UTC)),
        ("2026-03-05", datetime(2026, 3, 5, tzinfo=UTC)),
        (" 2026-03-05T09:00 ", datetime(2026, 3, 5, 9, tzinfo=UTC)),
    ],
)
def test_instants_keep_their_offset_and_are_utc_without_one(text: str, instant: datetime) -> None:
    parsed = parse_instant(text)
    assert parsed == instant and parsed.utcoffset() == timedelta(0)


@given(INSTANTS)
def test_any_iso_instant_reads_back_as_the_same_moment(instant: datetime) -> None:
    assert parse_instant(instant.isoformat()) == instant


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 1, 1)))
def test_a_time_without_offset_is_utc_not_local(naive: datetime) -> None:
    assert parse_instant(naive.isoformat()) == naive.replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "",
        "2026-13-01",
        "2026-02-30T00:00",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+01:00",
        "2026-03-05T09:00:00\x00",
        "1" * 10_000,
    ],
)
def test_what_is_not_an_instant_is_a_usage_error(text: str) -> None:
    with pytest.raises(click.BadParameter, match="not an ISO 8601 time"):
        parse_instant(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": 1}', None),
        ("[1, 2.5, null]", None),
        ("NaN", "--json has the non-standard JSON literal NaN"),
        ('{"x": Infinity}', "--json has the non-standard JSON literal Infinity"),
        ("[1e999]", "--json has a number too large"),
        ("{oops", "--json is not JSON"),
        ("[" * 100_000, "--json nests deeper than 32 levels"),
        ("[" * 40 + "]" * 40, "--json: .* nests deeper than 32 levels"),
        ('["a\\u0000b"]', r"--json: \$\[0\] holds a NUL"),
        ('["\\ud800"]', r"--json: \$\[0\] holds a NUL or an unpaired surrogate"),
        ('["\ud800"]', "--json is not UTF-8"),
    ],
)
def test_json_is_strict(text: str, problem: str | None) -> None:
    if problem is None:
        assert json_value(text, "--json") == json.loads(text)
    else:
        with pytest.raises(click.BadParameter, match=problem):
            json_value(text, "--json")


def test_json_files_are_read_with_limits(tmp_path: Path) -> None:
    good = tmp_path / "ok.json"
    good.write_text('{"type": "button"}')
    assert json_arg(f"@{good}", "--json") == {"type": "button"}
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"name": "caf\xe9"}')
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (FILE_MAX + 1))
    cases = {
        f"@{latin}": "not UTF-8",
        f"@{big}": "larger than",
        f"@{tmp_path}": "cannot read",
        f"@{tmp_path / 'missing'}": "cannot read",
        "@bad\x00path": "cannot read",
    }
    for arg, said in cases.items():
        with pytest.raises(click.BadParameter, match=said):
            json_arg(arg, "--json")
    with pytest.raises(click.BadParameter, match="cannot read"):
        read_text(str(tmp_path / "missing"), "profile")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1.5", True),
        ("0", True),
        ("-1", False),
        ("nan", False),
        ("inf", False),
        ("1e999", False),
        ("abc", False),
        ("", False),
    ],
)
def test_seconds_are_finite_and_not_negative(value: str, ok: bool) -> None:
    if ok:
        assert Seconds().convert(value, None, None) == float(value)
    else:
        with pytest.raises(click.BadParameter):
            Seconds().convert(value, None, None)
    assert Number().convert("-1", None, None) == -1


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8082", None),
        ("https://templates.example.com/base/", None),
        ("ftp://x", "scheme"),
        ("127.0.0.1:8082", "scheme"),
        ("http://", "no host"),
        ("http://x:99999", "out of range"),
        ("http://x:0", "port 0"),
        ("http://x y", "spaces"),
        ("http://x\r\nHost: evil", "control"),
    ],
)
def test_urls(url: str, problem: str | None) -> None:
    found = url_problem(url)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("servers", "ok"),
    [
        ("localhost:9092", True),
        ("a:1,b.example.com:9093", True),
        ("[::1]:9092", True),
        ("kafka", True),
        ("", False),
        ("a:b", False),
        ("a:70000", False),
        ("a:0", False),
        ("a b:1", False),
        ("a:1,", False),
    ],
)
def test_bootstrap_servers(servers: str, ok: bool) -> None:
    assert (bootstrap_problem(servers) is None) is ok


@pytest.mark.parametrize(
    ("prefix", "ok"),
    [("", True), ("t-1.", True), ("a/b", False), ("x" * 201, False), ("é", False)],
)
def test_topic_prefixes(prefix: str, ok: bool) -> None:
    assert (topic_prefix_problem(prefix) is None) is ok
