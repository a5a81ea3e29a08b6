"""What a site must get right beyond the schemas: no Secret of ours may carry a name an operator
writes (Strimzi's User Operator replaces a Secret named like each KafkaUser; CloudNativePG writes
`<cluster>-app`...), every site value is set and none of the base's `<site: KEY>` placeholders
is left, and the services' Kafka bootstrap names a listener of a Kafka the render declares.

Used by validate.py (the deploy tools' virtualenv: standard library and PyYAML only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Doc = dict[str, Any]
PLACEHOLDER = re.compile(r"<site: ([A-Z0-9_]+)>")
LOCAL_CONFIG = "config.kubernetes.io/local-config"
CA_CERT = frozenset({"ca.crt", "ca.p12", "ca.password"})
CA_KEY = frozenset({"ca.key"})
CERTS = frozenset({"ca.crt", "tls.crt", "tls.key"})
# What the User Operator writes for a KafkaUser (SCRAM-SHA-512 or TLS), Secret named like it.
KAFKA_USER = frozenset(
    {"password", "sasl.jaas.config", "ca.crt", "user.crt", "user.key", "user.p12", "user.password"}
)
# Secrets the Cluster Operator writes per Kafka cluster, by suffix of `<cluster>-`.
KAFKA_CLUSTER = {
    "cluster-ca-cert": CA_CERT,
    "cluster-ca": CA_KEY,
    "clients-ca-cert": CA_CERT,
    "clients-ca": CA_KEY,
    "kafka-brokers": CERTS,
    "entity-topic-operator-certs": CERTS,
    "entity-user-operator-certs": CERTS,
    "kafka-exporter-certs": CERTS,
    "cruise-control-certs": CERTS,
    "cruise-control-api": frozenset(),
    "cluster-operator-certs": CERTS,
}
# Secrets CloudNativePG writes per Cluster, by suffix of `<cluster>-`.
PG_USER = frozenset(
    {"username", "user", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass"}
    | {"fqdn-uri", "fqdn-jdbc-uri"}
)
PG_CLUSTER = {
    "app": PG_USER,
    "superuser": PG_USER,
    "ca": frozenset({"ca.crt", "ca.key"}),
    "server": CERTS,
    "replication": CERTS,
}


@dataclass(frozen=True)
class Generated:
    """A Secret an operator writes: who writes it and the keys it holds."""

    writer: str
    keys: frozenset[str]


def generated_secrets(docs: list[Doc]) -> dict[str, Generated]:
    """Every Secret name an operator will write for the resources in the render."""
    found: dict[str, Generated] = {}
    clusters: set[str] = set()
    for doc in docs:
        kind, group = doc.get("kind"), str(doc.get("apiVersion", "")).rpartition("/")[0]
        meta = doc.get("metadata") or {}
        name = str(meta.get("name", ""))
        if group == "kafka.strimzi.io":
            clusters.update(
                v for k, v in (meta.get("labels") or {}).items() if k == "strimzi.io/cluster"
            )
            if kind == "Kafka":
                clusters.add(name)
            if kind == "KafkaUser":
                found[name] = Generated(f"Strimzi's User Operator (KafkaUser {name})", KAFKA_USER)
        if group == "postgresql.cnpg.io" and kind == "Cluster":
            for suffix, keys in PG_CLUSTER.items():
                found[f"{name}-{suffix}"] = Generated(f"CloudNativePG (Cluster {name})", keys)
    for cluster in clusters:
        for suffix, keys in KAFKA_CLUSTER.items():
            found[f"{cluster}-{suffix}"] = Generated(f"Strimzi (Kafka {cluster})", keys)
    return found


def pod_spec(doc: Doc) -> Doc | None:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template") or {}
    return template.get("spec") if isinstance(template, dict) else None


def secret_refs(pod: Doc) -> Iterator[tuple[str, str | None]]:
    """(Secret name, key or None for all keys) for every Secret the pod reads."""
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        for item in container.get("env", []):
            ref = (item.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                yield ref.get("name", ""), ref.get("key")
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                yield source["secretRef"].get("name", ""), None
    for volume in pod.get("volumes", []):
        secret = volume.get("secret")
        if secret:
            items = secret.get("items") or [{"key": None}]
            for item in items:
                yield secret.get("secretName", ""), item.get("key")


def secret_errors(doc: Doc, generated: dict[str, Generated]) -> Iterator[str]:
    """A Secret we create, or a key we read from a Secret an operator writes, that the operator
    would overwrite."""
    if doc.get("kind") == "Secret":
        name = doc["metadata"]["name"]
        if name in generated:
            yield (
                f"creates Secret {name}, which {generated[name].writer} writes and replaces: "
                "give wagate's secret another name"
            )
        return
    pod = pod_spec(doc)
    if pod is None:
        return
    for name, key in sorted(set(secret_refs(pod)), key=str):
        owner = generated.get(name)
        if owner is not None and key is not None and key not in owner.keys:
            yield (
                f"reads key {key} of Secret {name}, but {owner.writer} writes that Secret "
                f"(keys {', '.join(sorted(owner.keys)) or 'of its own'}) and replaces any "
                "other: give wagate's secret another name (the overlay's site.yaml)"
            )


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def placeholder_errors(doc: Doc) -> Iterator[str]:
    for key in sorted({m for text in strings(doc) for m in PLACEHOLDER.findall(text)}):
        yield (
            f"still holds <site: {key}>: list ../../components/site in the overlay and set "
            f"{key} in its site.yaml"
        )


def bootstraps(docs: list[Doc]) -> Iterator[tuple[str, str]]:
    """(ConfigMap/name or Deployment/name, bootstrap address) for every service's Kafka."""
    for doc in docs:
        if doc.get("kind") == "ConfigMap":
            for key, value in (doc.get("data") or {}).items():
                if key.endswith("_KAFKA__BOOTSTRAP"):
                    yield f"ConfigMap/{doc['metadata']['name']}", str(value)
        pod = pod_spec(doc) if doc.get("kind") == "Deployment" else None
        for container in (pod or {}).get("containers", []):
            for item in container.get("env", []):
                if item["name"].endswith("_KAFKA__BOOTSTRAP") and "value" in item:
                    yield f"Deployment/{doc['metadata']['name']}", str(item["value"])


def kafka_errors(doc: Doc, docs: list[Doc]) -> Iterator[str]:
    """A Kafka in the render must have the listener the services' bootstrap names: the port of a
    listener of `<name>-kafka-bootstrap`, TLS with SCRAM-SHA-512 when KafkaUsers authenticate."""
    if doc.get("kind") != "Kafka":
        return
    name = doc["metadata"]["name"]
    kafka = (doc.get("spec") or {}).get("kafka") or {}
    listeners = {item.get("port"): item for item in kafka.get("listeners") or []}
    scram = any(
        (d.get("spec") or {}).get("authentication", {}).get("type") == "scram-sha-512"
        for d in docs
        if d.get("kind") == "KafkaUser"
    )
    for where, address in sorted(set(bootstraps(docs))):
        for server in address.split(","):
            host, _, port = server.strip().rpartition(":")
            if host.split(".")[0] != f"{name}-kafka-bootstrap":
                yield f"{where} connects to {server}, not this cluster's {name}-kafka-bootstrap"
                continue
            listener = listeners.get(int(port)) if port.isdigit() else None
            if listener is None:
                yield f"{where} connects to port {port}, where no listener of {name} is"
            elif scram and not (
                listener.get("tls") is True
                and (listener.get("authentication") or {}).get("type") == "scram-sha-512"
            ):
                yield (
                    f"{where} authenticates with SCRAM-SHA-512 over TLS, but listener "
                    f"{listener.get('name')} (port {port}) is not tls with scram-sha-512"
                )


def site_file_errors(path: Path) -> Iterator[str]:
    """The overlay's site.yaml: the ConfigMap wagate-site, kept out of the cluster, every value
    set (an empty one would render as an empty address, WABA or secret name)."""
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    if len(docs) != 1 or docs[0].get("kind") != "ConfigMap":
        yield f"{path.name} must hold one ConfigMap"
        return
    site = docs[0]
    meta = site.get("metadata") or {}
    if meta.get("name") != "wagate-site":
        yield f"{path.name}: the ConfigMap must be named wagate-site (the components read it)"
    if (meta.get("annotations") or {}).get(LOCAL_CONFIG) != "true":
        yield f'{path.name}: annotate it {LOCAL_CONFIG}: "true" so that it is never applied'
    for key, value in sorted((site.get("data") or {}).items()):
        if value is None or not str(value).strip():
            yield f"{path.name}: site value {key} is empty"
        elif PLACEHOLDER.search(str(value)):
            yield f"{path.name}: site value {key} is still a placeholder ({value})"
