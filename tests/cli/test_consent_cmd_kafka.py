"""`wagate consent import` against a real broker: every row on the consent topic, keyed by its
business and customer, with the row's time; the summary says what was produced."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from click.testing import CliRunner

from cli.main import main
from shared import codec
from shared.events.consent import ConsentChanged
from shared.messaging import partitions_of
from shared.settings import KafkaSettings
from shared.topics import CONSENT

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(120)]


async def _consent(settings: KafkaSettings) -> list[tuple[bytes, ConsentChanged]]:
    topic = settings.topic(CONSENT.name)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in await partitions_of(settings, topic)])
        await consumer.seek_to_beginning()
        batches = await consumer.getmany(timeout_ms=3000)
        return [
            (r.key, codec.decode(ConsentChanged, r.value))
            for records in batches.values()
            for r in records
        ]
    finally:
        await consumer.stop()


def test_import_produces_every_row_keyed_by_business_and_customer(
    kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    path = tmp_path / "optins.csv"
    path.write_text(
        "phone_number_id,waba,customer,category,opted_in,at,source\n"
        "106540352242922,,+1 650 555 1234,utility,true,2025-06-01T09:00:00Z,order form\n"
        ",102290129340398,16505559999,all,false,2025-06-02T09:00:00+02:00,preference centre\n"
    )
    base = ["--bootstrap", kafka_settings.bootstrap, "--topic-prefix", kafka_settings.topic_prefix]
    result = CliRunner().invoke(main, [*base, "consent", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["produced"] == 2

    produced = sorted(asyncio.run(_consent(kafka_settings)), key=lambda kv: kv[0])
    assert [key for key, _ in produced] == [
        b"102290129340398:16505559999",
        b"106540352242922:16505551234",
    ]
    opt_out, opt_in = (event for _, event in produced)
    assert (opt_in.phone_number_id, opt_in.category, opt_in.opted_in) == (
        "106540352242922",
        "utility",
        True,
    )
    assert (opt_out.waba_id, opt_out.category, opt_out.opted_in) == (
        "102290129340398",
        "all",
        False,
    )
    assert opt_out.occurred_at.isoformat() == "2025-06-02T07:00:00+00:00"
