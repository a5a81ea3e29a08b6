"""`wagate topics list`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cli.main import main
from shared.topics import ALL_TOPICS


def test_topics_list_as_json_is_the_registry() -> None:
    result = CliRunner().invoke(main, ["topics", "list", "--json"])
    assert result.exit_code == 0
    listed = [json.loads(line) for line in result.output.splitlines()]
    assert [t["name"] for t in listed] == [s.name for s in ALL_TOPICS]
    assert all(t["partitions"] > 0 for t in listed)
