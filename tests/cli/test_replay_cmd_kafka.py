"""`wagate replay` over a real journal: a dry run counts and publishes nothing; bad ranges are
usage errors."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner

from cli.main import main
from shared.settings import KafkaSettings
from shared.topics import INBOUND_MESSAGES
from tests.services.ingest.journal import right_now, write_journal
from tests.services.ingest.topics import read_all

pytestmark = pytest.mark.kafka


def test_the_cli_dry_run_counts_and_publishes_nothing(kafka_settings: KafkaSettings) -> None:
    now = right_now()
    asyncio.run(write_journal(kafka_settings, now))
    since = (now - timedelta(hours=3)).isoformat()
    args = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]

    result = CliRunner().invoke(main, [*args, "replay", "--since", since, "--dry-run"])

    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["webhooks"], out["skipped"], out["events"], out["dry_run"]) == (3, 1, 6, True)
    assert asyncio.run(read_all(kafka_settings, INBOUND_MESSAGES)) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--since", "yesterday"], "not an ISO 8601 time"),
        (["--since", "2026-01-02T00:00:00", "--until", "2026-01-01"], "must be after"),
    ],
)
def test_the_cli_refuses_bad_ranges(options: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["replay", *options])

    assert result.exit_code == 2
    assert message in result.output
