"""Kafka connection options for every client: plaintext, TLS, SASL."""

from __future__ import annotations

import ssl

import pytest
from pydantic import SecretStr

from shared.messaging import connection_options
from shared.settings import KafkaSettings


def test_plaintext_by_default() -> None:
    assert connection_options(KafkaSettings(bootstrap="k:9092")) == {
        "bootstrap_servers": "k:9092",
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_over_tls() -> None:
    options = connection_options(
        KafkaSettings(
            bootstrap="k:9093",
            security_protocol="SASL_SSL",
            sasl_mechanism="SCRAM-SHA-512",
            sasl_username="wagate-dispatch",
            sasl_password=SecretStr("s3cret"),
        )
    )
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "wagate-dispatch"
    assert options["sasl_plain_password"] == "s3cret"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_sasl_without_credentials_is_refused() -> None:
    with pytest.raises(ValueError, match="SASL needs"):
        connection_options(
            KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN")
        )


def test_the_password_never_shows_in_the_settings_repr() -> None:
    settings = KafkaSettings(sasl_password=SecretStr("s3cret"))
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
