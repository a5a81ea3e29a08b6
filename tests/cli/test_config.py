"""Where the CLI finds its servers: flags over the environment over a profile file, with the
Kafka security settings the services use (SASL/SCRAM, a TLS CA), checked before any
connection."""

from __future__ import annotations

import datetime as dt
import os
import ssl
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cli import root
from cli.config import Config, default_map, parse_profile
from cli.main import main
from cli.root import environment, older_names
from shared.messaging import connection_options

SCRAM_TLS = """
# the cluster the manifests build: SCRAM over TLS
export WAGATE_KAFKA__BOOTSTRAP=kafka.example.com:9093
WAGATE_KAFKA__SECURITY_PROTOCOL=SASL_SSL
WAGATE_KAFKA__SASL_MECHANISM = SCRAM-SHA-512
WAGATE_KAFKA__SASL_USERNAME='wagate-cli'
WAGATE_KAFKA__SASL_PASSWORD="s3cret #1"
WAGATE_TEMPLATES_URL=https://templates.example.com
"""


def ca_file(path: Path) -> Path:
    """A self-signed CA certificate in PEM, as a cluster's CA bundle would be."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wagate test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def test_a_profile_reads_like_an_env_file() -> None:
    assert parse_profile(SCRAM_TLS, "p") == {
        "WAGATE_KAFKA__BOOTSTRAP": "kafka.example.com:9093",
        "WAGATE_KAFKA__SECURITY_PROTOCOL": "SASL_SSL",
        "WAGATE_KAFKA__SASL_MECHANISM": "SCRAM-SHA-512",
        "WAGATE_KAFKA__SASL_USERNAME": "wagate-cli",
        "WAGATE_KAFKA__SASL_PASSWORD": "s3cret #1",
        "WAGATE_TEMPLATES_URL": "https://templates.example.com",
    }
    assert default_map(parse_profile(SCRAM_TLS, "p")) == {
        "templates": {"url": "https://templates.example.com"}
    }


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("WAGATE_KAFKA__BOOTSTRAP", "p:1: expected NAME=VALUE"),
        ("\n\nlower=1", "p:3: expected NAME=VALUE"),
        ("DISPATCH_KAFKA__BOOTSTRAP=x", "not a wagate setting"),
        ("WAGATE_POLICY_URL=a\nWAGATE_POLICY_URL=b", "set twice"),
        ("WAGATE_KAFKA__SASL_PASSWORD=a\x00b", "NUL"),
    ],
)
def test_a_broken_profile_is_a_usage_error_naming_its_line(text: str, said: str) -> None:
    with pytest.raises(click.UsageError, match=said):
        parse_profile(text, "p")


def test_scram_over_tls_settings_become_the_kafka_clients_options(tmp_path: Path) -> None:
    profile = parse_profile(SCRAM_TLS, "p")
    ca = ca_file(tmp_path / "ca.crt")
    settings = Config(profile, {"WAGATE_KAFKA__SSL_CAFILE": str(ca)}).kafka()
    options = connection_options(settings)
    assert options["bootstrap_servers"] == "kafka.example.com:9093"
    assert options["security_protocol"] == "SASL_SSL"
    assert (options["sasl_mechanism"], options["sasl_plain_username"]) == (
        "SCRAM-SHA-512",
        "wagate-cli",
    )
    assert options["sasl_plain_password"] == "s3cret #1"
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext) and context.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in context.get_ca_certs()] == [
        ((("commonName", "wagate test CA"),),)
    ]
    assert settings.client_id == "wagate-cli"


def test_flags_win_over_the_environment_which_wins_over_the_profile() -> None:
    profile = {"WAGATE_KAFKA__BOOTSTRAP": "p:1", "WAGATE_KAFKA__TOPIC_PREFIX": "p."}
    env = environment({"WAGATE_KAFKA__TOPIC_PREFIX": "e.", "PATH": "/bin"})
    assert env == {"WAGATE_KAFKA__TOPIC_PREFIX": "e."}
    assert Config(profile, env).kafka().topic_prefix == "e."
    assert Config(profile, env).kafka().bootstrap == "p:1"
    flagged = Config(profile, env, {"bootstrap": "f:1", "topic_prefix": "f."}).kafka()
    assert (flagged.bootstrap, flagged.topic_prefix) == ("f:1", "f.")


def test_the_older_names_fill_in_below_the_profile() -> None:
    old = older_names({"KAFKA_BOOTSTRAP": "old:1", "WAGATE_TOPIC_PREFIX": "o."})
    assert old == {"WAGATE_KAFKA__BOOTSTRAP": "old:1", "WAGATE_KAFKA__TOPIC_PREFIX": "o."}
    assert Config({}, {}, fallback=old).kafka().bootstrap == "old:1"
    # a KAFKA_BOOTSTRAP left in the shell does not send a profile's commands elsewhere
    assert Config({"WAGATE_KAFKA__BOOTSTRAP": "p:1"}, {}, fallback=old).kafka().bootstrap == "p:1"
    newer = {"WAGATE_KAFKA__BOOTSTRAP": "new:1"}
    assert Config({}, newer, fallback=old).kafka().bootstrap == "new:1"


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"WAGATE_KAFKA__SECURITY_PROTOCOL": "SASL_SSL"}, "WAGATE_KAFKA__SASL_MECHANISM"),
        (
            {
                "WAGATE_KAFKA__SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "WAGATE_KAFKA__SASL_MECHANISM": "PLAIN",
            },
            "WAGATE_KAFKA__SASL_USERNAME, WAGATE_KAFKA__SASL_PASSWORD",
        ),
        ({"WAGATE_KAFKA__SECURITY_PROTOCOL": "TLS"}, "WAGATE_KAFKA__SECURITY_PROTOCOL"),
        (
            {"WAGATE_KAFKA__SASL_PASWORD": "typo"},
            "WAGATE_KAFKA__SASL_PASWORD is not a Kafka setting",
        ),
        ({"WAGATE_KAFKA__REQUEST_TIMEOUT_MS": "soon"}, "WAGATE_KAFKA__REQUEST_TIMEOUT_MS"),
        ({"WAGATE_KAFKA__SSL_CAFILE": "/nonexistent/ca.crt"}, "not a readable file"),
        ({"WAGATE_KAFKA__BOOTSTRAP": "kafka:port"}, "is not host:port"),
        ({"WAGATE_KAFKA__TOPIC_PREFIX": "a/b"}, "topic prefix"),
        ({"WAGATE_KAFKA__SASL_USERNAME": "a\tb"}, "control character"),
        ({"WAGATE_KAFKA__SASL_USERNAME": "caf\udce9"}, "control character"),
    ],
)
def test_bad_kafka_settings_are_usage_errors_naming_the_variable(
    values: dict[str, str], said: str
) -> None:
    with pytest.raises(click.UsageError, match=said):
        Config({}, values).kafka()


def test_through_the_command_a_broken_kafka_profile_exits_2_and_others_still_run(
    tmp_path: Path,
) -> None:
    profile = tmp_path / "prod.env"
    profile.write_text("WAGATE_KAFKA__SECURITY_PROTOCOL=SASL_SSL\n")
    os.chmod(profile, 0o600)
    runner = CliRunner()

    result = runner.invoke(main, ["--profile", str(profile), "tail", "intents"])
    assert result.exit_code == 2, result.output
    assert "SASL_SSL needs WAGATE_KAFKA__SASL_MECHANISM" in result.stderr

    listed = runner.invoke(main, ["--profile", str(profile), "topics", "list", "--json"])
    assert listed.exit_code == 0  # it needs no Kafka, so the Kafka settings are not read

    missing = runner.invoke(main, ["--profile", str(tmp_path / "nope.env"), "topics", "list"])
    assert missing.exit_code == 2 and "cannot read profile" in missing.stderr


def test_a_profile_names_the_services_and_the_environment_wins(tmp_path: Path) -> None:
    profile = tmp_path / "p.env"
    profile.write_text(
        "WAGATE_TEMPLATES_URL=http://127.0.0.1:1\nWAGATE_SANDBOX_URL=http://127.0.0.1:2\n"
        "WAGATE_POLICY_URL=http://127.0.0.1:4\n"
    )
    runner = CliRunner()
    result = runner.invoke(main, ["--profile", str(profile), "templates", "list"])
    assert result.exit_code == 69 and "127.0.0.1:1" in result.stderr
    result = runner.invoke(
        main,
        ["templates", "list"],
        env={"WAGATE_PROFILE": str(profile), "WAGATE_TEMPLATES_URL": "http://127.0.0.1:3"},
    )
    assert result.exit_code == 69 and "127.0.0.1:3" in result.stderr
    result = runner.invoke(main, ["--profile", str(profile), "sandbox", "messages"])
    assert result.exit_code == 69 and "127.0.0.1:2" in result.stderr
    result = runner.invoke(main, ["--profile", str(profile), "window", "1", "2"])
    assert result.exit_code == 69 and "127.0.0.1:4" in result.stderr
    assert default_map({"WAGATE_TEMPLATES_API_KEY": "k"}) == {"templates": {"api_key": "k"}}


def test_a_profile_others_can_read_with_a_password_gets_a_warning(tmp_path: Path) -> None:
    profile = tmp_path / "p.env"
    profile.write_text("WAGATE_KAFKA__SASL_PASSWORD=x\n")
    os.chmod(profile, 0o644)
    result = CliRunner().invoke(main, ["--profile", str(profile), "topics", "list"])
    assert result.exit_code == 0 and "others may read it" in result.stderr
    os.chmod(profile, 0o600)
    result = CliRunner().invoke(main, ["--profile", str(profile), "topics", "list"])
    assert "others may read it" not in result.stderr


def test_commands_taking_the_kafka_settings_as_their_object_get_them() -> None:
    ctx = click.Context(main)
    options = {"profile": None, "as_json": False, "as_table": False}
    root.setup(ctx, bootstrap="kafka-1:9093", topic_prefix="staging.", **options)
    assert (ctx.obj.bootstrap, ctx.obj.topic("wagate.intents.v1")) == (
        "kafka-1:9093",
        "staging.wagate.intents.v1",
    )
    broken = click.Context(main)
    root.setup(broken, bootstrap="kafka-1:9093", topic_prefix="a/b", **options)
    with pytest.raises(click.UsageError, match="topic prefix"):
        broken.obj.topic("wagate.intents.v1")
