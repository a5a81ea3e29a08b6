"""A Kafka broker of the kind the manifests build, for one test module: SCRAM-SHA-512 over TLS
(a CA of its own, a server certificate for localhost), KRaft, from the local Kafka jars."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.conftest import ROOT, free_port

LIBS = ROOT / ".local" / "kafka" / "libs"
USER, PASSWORD = "wagate-cli", "s3cret-for-tests"


@dataclass
class Broker:
    bootstrap: str
    ca_file: Path
    process: subprocess.Popen[bytes]
    log: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def certificates(folder: Path) -> tuple[Path, Path]:
    """A CA (its certificate in `ca.crt`) and a server key and chain for localhost signed by
    it (`server.pem`, as Kafka's PEM keystore reads it)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("wagate test CA"))
        .issuer_name(_name("wagate test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_file, server_file = folder / "ca.crt", folder / "server.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    server_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + server.public_bytes(pem)
        + ca.public_bytes(pem)
    )
    return ca_file, server_file


def _properties(folder: Path, server_pem: Path, port: int, internal: int, controller: int) -> Path:
    config = folder / "server.properties"
    config.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller}",
                "controller.listener.names=CONTROLLER",
                f"listeners=SASL_SSL://127.0.0.1:{port},INTERNAL://127.0.0.1:{internal},"
                f"CONTROLLER://127.0.0.1:{controller}",
                f"advertised.listeners=SASL_SSL://localhost:{port},INTERNAL://127.0.0.1:{internal}",
                "inter.broker.listener.name=INTERNAL",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,"
                "SASL_SSL:SASL_SSL",
                "sasl.enabled.mechanisms=SCRAM-SHA-512",
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "ssl.keystore.type=PEM",
                f"ssl.keystore.location={server_pem}",
                f"log.dirs={folder / 'data'}",
                "num.partitions=1",
                "num.network.threads=1",
                "num.io.threads=2",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "",
            ]
        )
    )
    return config


def _java(*args: str) -> list[str]:
    log4j = ROOT / "deploy" / "local" / "tools-log4j.properties"
    return [
        "java",
        "-Xmx384m",
        "-XX:TieredStopAtLevel=1",
        "-Djava.net.preferIPv4Stack=true",
        f"-Dlog4j.configuration=file:{log4j}",
        "-cp",
        f"{LIBS}/*",
        *args,
    ]


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def cluster_id() -> str:
    """A random cluster id as Kafka makes one: 22 url-safe base64 characters, never a leading
    ``-``, which the storage tool would read as an option rather than the value of ``-t``."""
    while True:
        made = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not made.startswith("-"):
            return made


def start(folder: Path, timeout_s: float = 180) -> Broker:
    """Format the storage with the CLI's SCRAM user, start the broker, wait for its port."""
    ca_file, server_pem = certificates(folder)
    port, internal, controller = free_port(), free_port(), free_port()
    config = _properties(folder, server_pem, port, internal, controller)
    scram = f"SCRAM-SHA-512=[name={USER},password={PASSWORD}]"
    formatted = subprocess.run(
        _java(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            cluster_id(),
            "-c",
            str(config),
            "--add-scram",
            scram,
        ),
        capture_output=True,
        timeout=120,
    )
    if formatted.returncode != 0:
        said = (formatted.stdout + formatted.stderr).decode(errors="replace")[-3000:]
        raise RuntimeError(f"formatting the SCRAM broker's storage failed:\n{said}")
    log = folder / "broker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            _java("kafka.Kafka", str(config)),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ},
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout_s
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"the SCRAM broker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    return Broker(f"localhost:{port}", ca_file, process, log)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
