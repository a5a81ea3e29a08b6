"""`wagate consent import`: every row checked before anything is produced, bad rows named by
their line (exit 2), CSV and JSON lines alike, and the events the rows become."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.consent_cmd import Row, consent_event, read_rows
from cli.main import main

UNREACHABLE = ["--bootstrap", "127.0.0.1:1"]  # a command that tried to produce would exit 69
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
HEADER = "phone_number_id,customer,category,opted_in,at,source\n"
GOOD = "106540352242922,+1 650 555 1234,utility,true,2025-06-01T09:00:00Z,order form\n"


def _run(tmp_path: Path, name: str, text: str, *args: str) -> tuple[int, str]:
    path = tmp_path / name
    path.write_text(text)
    result = CliRunner().invoke(main, [*UNREACHABLE, "consent", "import", str(path), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        pytest.param(
            HEADER + GOOD + GOOD.replace("utility", "promos"), 3, "category 'promos'", id="category"
        ),
        pytest.param(HEADER + GOOD.replace("true", "maybe"), 2, "opted_in 'maybe'", id="flag"),
        pytest.param(HEADER + GOOD.replace("Z,", ","), 2, "give the time zone", id="naive-time"),
        pytest.param(
            HEADER + GOOD.replace("2025-06-01T09:00:00Z", "June 1"), 2, "ISO 8601", id="time"
        ),
        pytest.param(
            HEADER + GOOD.replace("2025-06-01", "2099-06-01"), 2, "in the future", id="future"
        ),
        pytest.param(HEADER + GOOD.replace("+1 650 555 1234", "n/a"), 2, "customer", id="customer"),
        pytest.param(
            HEADER + GOOD.replace("106540352242922", ""),
            2,
            "phone_number_id or waba",
            id="business",
        ),
        pytest.param(HEADER + GOOD.replace("order form", " "), 2, "source", id="source"),
        pytest.param(HEADER + GOOD + "1,2,3\n", 3, "3 values for 6 columns", id="short-row"),
        pytest.param(
            HEADER.replace("opted_in", "optedin") + GOOD,
            1,
            "unknown column(s) ['optedin']",
            id="column",
        ),
    ],
)
def test_a_bad_row_is_named_by_its_line_and_nothing_is_produced(
    tmp_path: Path, text: str, line: int, says: str
) -> None:
    code, output = _run(tmp_path, "optins.csv", text)
    assert code == 2, output
    assert f"line {line}: " in output and says in output
    assert "unreachable" not in output


def test_every_bad_row_is_listed(tmp_path: Path) -> None:
    bad = GOOD.replace("utility", "x")
    code, output = _run(tmp_path, "optins.csv", HEADER + bad + GOOD + bad)
    assert code == 2
    assert "2 bad row(s)" in output and "line 2: " in output and "line 4: " in output


def test_json_lines_are_read_with_their_line_numbers(tmp_path: Path) -> None:
    good = {
        "waba": "102290129340398",
        "customer": "16505551234",
        "category": "all",
        "opted_in": True,
        "at": "2025-06-01T09:00:00+02:00",
        "source": "paper form",
    }
    text = json.dumps(good) + "\n\n" + "[1]\n"
    code, output = _run(tmp_path, "optins.jsonl", text)
    assert code == 2 and "line 3: the row must be a JSON object" in output
    code, output = _run(tmp_path, "optins.jsonl", json.dumps(good)[:-1] + ', "n": NaN}\n')
    assert code == 2 and "line 1: the row has the non-standard JSON literal NaN" in output
    code, output = _run(tmp_path, "optins.jsonl", json.dumps({**good, "source": "a\x00b"}) + "\n")
    assert code == 2 and "line 1: the row: $.source holds a NUL" in output
    code, output = _run(tmp_path, "optins.jsonl", json.dumps({**good, "colour": "red"}) + "\n")
    assert code == 2 and "line 1: unknown field(s) ['colour']" in output


def test_an_empty_file_or_one_of_another_kind_is_refused(tmp_path: Path) -> None:
    assert _run(tmp_path, "optins.csv", HEADER)[0] == 2
    code, output = _run(tmp_path, "optins.csv", "")
    assert code == 2 and "no header" in output
    code, output = _run(tmp_path, "optins.jsonl", "{not json\n")
    assert code == 2 and "line 1: the row is not JSON" in output


def test_a_dry_run_checks_every_row_and_produces_nothing(tmp_path: Path) -> None:
    opt_out = GOOD.replace("utility,true", "marketing,no").replace("1234", "9999")
    code, output = _run(tmp_path, "optins.txt", HEADER + GOOD + opt_out, "--dry-run")
    assert code == 0, output
    assert json.loads(output) == {
        "file": str(tmp_path / "optins.txt"),
        "rows": 2,
        "produced": 0,
        "opted_in": 1,
        "opted_out": 1,
        "by_category": {"marketing": 1, "utility": 1},
        "customers": 2,
    }


def test_a_row_becomes_a_consent_event_keyed_by_its_business_and_customer() -> None:
    [row] = read_rows(HEADER + GOOD, "auto", "x.csv")
    event, key = consent_event(row, NOW)
    assert key == "106540352242922:16505551234"
    assert (event.customer, event.category, event.opted_in, event.source) == (
        "16505551234",
        "utility",
        True,
        "order form",
    )
    assert event.occurred_at == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    assert event.producer == "wagate-consent-import"
    again, _ = consent_event(row, NOW)
    assert again.event_id == event.event_id  # importing twice is harmless
    other, _ = consent_event(Row(2, {**row.values, "opted_in": "false"}), NOW)
    assert other.event_id != event.event_id


def test_a_waba_row_names_the_waba() -> None:
    row = Row(
        2,
        {
            "waba_id": "102290129340398",
            "customer": "1 650 555 1234",
            "category": "ALL",
            "opted_in": "1",
            "at": "2025-06-01T09:00:00Z",
            "source": "kiosk",
        },
    )
    event, key = consent_event(row, NOW)
    assert (event.waba_id, event.phone_number_id, event.category) == ("102290129340398", "", "all")
    assert key == "102290129340398:16505551234"
