"""The published contract never drifts: every example in docs/contract.md is a valid event of
its topic, and the generated schemas match the models."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared import schemas
from shared.events.reasons import Reason
from shared.topics import BY_NAME

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract.md"
EXAMPLE = re.compile(r"<!-- example: (\S+) -->\n```json\n(.*?)\n```", re.DOTALL)
EXAMPLES = EXAMPLE.findall(CONTRACT.read_text())


def test_the_contract_has_examples_of_the_public_topics() -> None:
    assert {topic for topic, _ in EXAMPLES} >= {
        "wagate.intents.v1",
        "wagate.delivery.v1",
        "wagate.inbound.messages.v1",
        "wagate.consent.v1",
    }


@pytest.mark.parametrize(("topic", "body"), EXAMPLES, ids=[t for t, _ in EXAMPLES])
def test_every_example_is_a_valid_event_of_its_topic(topic: str, body: str) -> None:
    model = BY_NAME[topic].model
    assert model is not None
    event = model.model_validate_json(body)
    assert event.event_id


def test_the_generated_schemas_match_the_models() -> None:
    assert schemas.stale(schemas.rendered()) == [], "run `make schemas`"


def test_the_contract_names_every_reason_and_no_other() -> None:
    section = CONTRACT.read_text().split("Reasons you can meet:", 1)[1].split("\n\n", 1)[0]
    named = set(re.findall(r"`([A-Z][A-Z_]+)`", section))
    assert named == {reason.value for reason in Reason}
