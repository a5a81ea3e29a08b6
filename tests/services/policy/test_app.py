"""The faust app policy builds: its brokers and credentials, one agent per topic it reads, the
tables of policy's list with faust's own changelog names, and its pages."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
from pydantic import SecretStr

from services.policy.app import create_app
from services.policy.publisher import KeptHash
from services.policy.settings import PolicySettings
from services.policy.tables import TABLES, changelog_topics
from services.policy.web import deciding
from shared.settings import KafkaSettings
from tests.conftest import SEALING_KEY


def _settings(data_dir: Path, **values: Any) -> PolicySettings:
    return PolicySettings(data_dir=data_dir, sealing_keys=[SEALING_KEY], **values)


def test_the_app_reads_each_topic_with_one_agent(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path, kafka=KafkaSettings(topic_prefix="x.")))
    topics = {name: agent.channel.get_topic_name() for name, agent in app.agents.items()}
    assert topics == {
        "track_windows": "x.wagate.inbound.messages.v1",
        "track_consent": "x.wagate.consent.v1",
        "track_preferences": "x.wagate.user.preferences.v1",
        "track_templates": "x.wagate.template.states.v1",
        "track_statuses": "x.wagate.statuses.v1",
        "track_identities": "x.wagate.identities.v1",
        "track_calls": "x.wagate.calls.v1",
        "track_threads": "x.wagate.thread.control.v1",
        "track_accounts": "x.wagate.account.updates.v1",
        "decide_intents": "x.wagate.intents.v1",
        "rekeyed": "wagate-policy-rekeyed",  # policy's own, named after the app as its changelogs
    }
    assert list(app.web.views) == [
        "/healthz",
        "/readyz",
        "/metrics",
        "/windows/{phone_number_id}/{wa_id}",
        "/accounts",
        "/consent/{phone_number_id}/{wa_id}",
    ]


def test_the_app_creates_the_tables_of_the_list(tmp_path: Path) -> None:
    settings = _settings(tmp_path, app_id="wagate-policy-t")
    app = create_app(settings)
    assert list(app.tables) == [spec.name for spec in TABLES]
    made = [(t.changelog_topic.get_topic_name(), t.partitions) for t in app.tables.values()]
    listed = [(t.name, t.partitions) for t in changelog_topics(settings.app_id)]
    assert made == listed
    assert isinstance(app.tables["templates"], faust.GlobalTable)
    assert isinstance(app.tables["consent"], faust.GlobalTable)  # consent is the business's


def test_the_producer_places_records_with_the_kept_hash_partitioner(tmp_path: Path) -> None:
    app = create_app(_settings(tmp_path))
    assert isinstance(app.producer.partitioner, KeptHash)  # aiokafka's placement, hashes kept


def test_brokers_and_credentials_come_from_the_kafka_settings(tmp_path: Path) -> None:
    kafka = KafkaSettings(
        bootstrap="a:9092, b:9093",
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="policy",
        sasl_password=SecretStr("secret"),
    )
    app = create_app(_settings(tmp_path, kafka=kafka))
    assert [str(url) for url in app.conf.broker] == ["kafka://a:9092", "kafka://b:9093"]
    assert isinstance(app.conf.broker_credentials, faust.SASLCredentials)
    assert app.conf.broker_credentials.username == "policy"
    plain = create_app(_settings(tmp_path))
    assert plain.conf.broker_credentials is None


def _worker(*, assigned: bool, rebalancing: bool, completed: bool, in_recovery: bool) -> Any:
    recovered = asyncio.Event()
    if completed:
        recovered.set()
    return SimpleNamespace(
        consumer=SimpleNamespace(assignment=lambda: {("t", 0)} if assigned else set()),
        rebalancing=rebalancing,
        in_recovery=in_recovery,
        tables=SimpleNamespace(recovery=SimpleNamespace(completed=recovered)),
    )


def test_the_worker_is_deciding_only_once_its_tables_are_recovered() -> None:
    ready = {"assigned": True, "rebalancing": False, "completed": True, "in_recovery": False}
    assert deciding(_worker(**ready))
    for field, value in (
        ("assigned", False),
        ("rebalancing", True),
        ("completed", False),
        ("in_recovery", True),
    ):
        assert not deciding(_worker(**{**ready, field: value})), field
