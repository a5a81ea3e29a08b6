"""The CLI against a broker like the one the manifests build: SCRAM-SHA-512 over TLS with a
CA of its own, reached through a profile with the services' setting names."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import main
from tests.cli import scram_broker
from tests.cli.scram_broker import LIBS, PASSWORD, USER, Broker
from tests.conftest import unavailable

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(400)]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    if not LIBS.is_dir():
        unavailable("Kafka's jars", f"nothing in {LIBS} (run `make setup`)")
    started = scram_broker.start(tmp_path_factory.mktemp("scram"))
    try:
        yield started
    finally:
        scram_broker.stop(started.process)


@pytest.fixture
def profile(broker: Broker, tmp_path: Path) -> Path:
    path = tmp_path / "cluster.env"
    path.write_text(
        f"WAGATE_KAFKA__BOOTSTRAP={broker.bootstrap}\n"
        "WAGATE_KAFKA__SECURITY_PROTOCOL=SASL_SSL\n"
        "WAGATE_KAFKA__SASL_MECHANISM=SCRAM-SHA-512\n"
        f"WAGATE_KAFKA__SASL_USERNAME={USER}\n"
        f"WAGATE_KAFKA__SASL_PASSWORD={PASSWORD}\n"
        f"WAGATE_KAFKA__SSL_CAFILE={broker.ca_file}\n"
    )
    os.chmod(path, 0o600)
    return path


def wagate(profile: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--profile", str(profile), *args], env=env)


def test_topics_send_and_tail_over_scram_and_tls(broker: Broker, profile: Path) -> None:
    deadline = time.monotonic() + 120
    while (created := wagate(profile, "topics", "create")).exit_code != 0:
        assert time.monotonic() < deadline, f"{created.output}\n{broker.log.read_text()[-2000:]}"
        time.sleep(2)
    assert "created wagate.intents.v1" in created.stdout

    sent = wagate(
        profile,
        *("send", "text", "--from", "106540352242922", "--to", "16505551234"),
        *("--body", "hi over TLS", "--intent-id", "scram-1"),
    )
    assert sent.exit_code == 0, sent.output
    tailed = wagate(profile, "tail", "intents", "--from-beginning", "--max", "1", "--timeout", "60")
    assert tailed.exit_code == 0, tailed.output
    assert json.loads(tailed.stdout)["intent_id"] == "scram-1"


def test_a_wrong_password_or_an_unknown_ca_is_unavailable_not_a_traceback(
    broker: Broker, profile: Path, tmp_path: Path
) -> None:
    wrong = wagate(
        profile, "tail", "intents", "--timeout", "5", env={"WAGATE_KAFKA__SASL_PASSWORD": "nope"}
    )
    assert wrong.exit_code == 69, wrong.output
    assert "Kafka is unreachable or refused the request" in wrong.stderr

    other_ca = scram_broker.certificates(tmp_path)[0]  # a CA that did not sign the broker
    untrusted = wagate(
        profile,
        "tail",
        "intents",
        "--timeout",
        "5",
        env={"WAGATE_KAFKA__SSL_CAFILE": str(other_ca)},
    )
    assert untrusted.exit_code == 69, untrusted.output
