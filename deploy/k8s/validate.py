"""Validates rendered manifests offline: built-in kinds against the Kubernetes JSON schemas that
kubernetes-validate bundles, CRD kinds against the schemas vendored in schemas/, then the rules a
platform team holds every workload to (hardened pods, probes, limits, a PodDisruptionBudget) and
what a site must get right (site_rules.py: Secret names operators write, site values).

Runs in the deploy tools' virtualenv (tools.sh); `--dump` writes the documents as JSON for
check_config.py, which needs the project's own virtualenv.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from site_rules import (
    generated_secrets,
    kafka_errors,
    placeholder_errors,
    secret_errors,
    site_file_errors,
)

SCHEMAS = Path(__file__).resolve().parent / "schemas"
ROOT = Path(__file__).resolve().parents[2]
CRD_GROUPS = (
    "kafka.strimzi.io",
    "postgresql.cnpg.io",
    "monitoring.coreos.com",
    "gateway.networking.k8s.io",
)
Doc = dict[str, Any]


def label(doc: Doc) -> str:
    return f"{doc.get('kind', '?')}/{(doc.get('metadata') or {}).get('name', '?')}"


def crd_schema(doc: Doc) -> Path | None:
    group, _, version = str(doc.get("apiVersion", "")).rpartition("/")
    if group not in CRD_GROUPS:
        return None
    return SCHEMAS / f"{str(doc.get('kind', '')).lower()}-{group}-{version}.json"


def schema_errors(doc: Doc, versions: list[str]) -> Iterator[str]:
    path = crd_schema(doc)
    if path is not None:
        if not path.exists():
            yield f"no vendored schema {path.name} for {doc.get('apiVersion')} {doc.get('kind')}"
            return
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            yield f"{where}: {error.message} (schema {path.name})"
        return
    for version in versions:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            yield f"{where}: {error.message} (Kubernetes {version})"
        except kubernetes_validate.SchemaNotFoundError as error:
            yield f"{error.message}"


def workload_errors(doc: Doc, docs: list[Doc]) -> Iterator[str]:
    """The hardening every Deployment and Job must keep; schemas cannot say 'required' for
    these. A Deployment's pods also need probes and a PodDisruptionBudget."""
    if doc.get("kind") not in ("Deployment", "Job"):
        return
    serving = doc["kind"] == "Deployment"
    pod = doc["spec"]["template"]["spec"]
    security = pod.get("securityContext") or {}
    if security.get("runAsNonRoot") is not True:
        yield "pod securityContext.runAsNonRoot must be true"
    if (security.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
        yield "pod securityContext.seccompProfile.type must be RuntimeDefault"
    if pod.get("automountServiceAccountToken") is not False:
        yield "pod automountServiceAccountToken must be false (wagate never calls the API server)"
    for container in pod.get("containers", []):
        yield from container_errors(container, probed=serving)
    if not serving:
        return
    selector = doc["spec"]["selector"].get("matchLabels", {})
    budgets = [
        d
        for d in docs
        if d.get("kind") == "PodDisruptionBudget"
        and d["spec"].get("selector", {}).get("matchLabels") == selector
    ]
    if not budgets:
        yield "no PodDisruptionBudget selects this Deployment's pods"


def container_errors(container: Doc, *, probed: bool) -> Iterator[str]:
    name = container.get("name", "?")
    image = str(container.get("image", ""))
    if ":" not in image.rpartition("/")[2] or image.endswith(":latest"):
        yield f"container {name}: image {image} needs a pinned tag (overlays set it)"
    context = container.get("securityContext") or {}
    if context.get("readOnlyRootFilesystem") is not True:
        yield f"container {name}: readOnlyRootFilesystem must be true"
    if context.get("allowPrivilegeEscalation") is not False:
        yield f"container {name}: allowPrivilegeEscalation must be false"
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        yield f"container {name}: capabilities.drop must include ALL"
    resources = container.get("resources") or {}
    for bound in ("requests", "limits"):
        for what in ("cpu", "memory"):
            if what not in (resources.get(bound) or {}):
                yield f"container {name}: resources.{bound}.{what} is missing"
    probes = (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")) if probed else ()
    for probe, path in probes:
        got = ((container.get(probe) or {}).get("httpGet") or {}).get("path")
        if got != path:
            yield f"container {name}: {probe} must GET {path} (has {got})"


METRIC = re.compile(r"\bwagate_[a-z0-9_]+")
SERIES_SUFFIXES = ("_bucket", "_sum", "_count", "_created")


def defined_metrics(root: Path) -> set[str]:
    """Metric names the code registers: literal names, and the consume loop's per-service ones."""
    names: set[str] = set()
    sources = [*root.glob("services/**/*.py"), *root.glob("shared/**/*.py")]
    for source in sources:
        text = source.read_text()
        names.update(re.findall(r"[\"'](wagate_[a-z0-9_]+)[\"']", text))
        for service in re.findall(r"ConsumerMetrics\.create\(\s*\w+,\s*[\"'](\w+)[\"']", text):
            consumer = (root / "shared/metrics.py").read_text()
            names.update(f"wagate_{service}_{m}" for m in re.findall(r"\{prefix\}_(\w+)", consumer))
    return names


def metric_errors(doc: Doc, defined: set[str]) -> Iterator[str]:
    """Alert rules and dashboards may only query metrics that the services export."""
    if doc.get("kind") == "PrometheusRule":
        texts = [str(r.get("expr", "")) for g in doc["spec"]["groups"] for r in g["rules"]]
    elif doc.get("kind") == "ConfigMap" and "grafana_dashboard" in doc["metadata"].get(
        "labels", {}
    ):
        texts = list((doc.get("data") or {}).values())
    else:
        return
    for text in texts:
        if unbalanced(text):
            yield f"unbalanced brackets or quotes in {text[:80]!r}"
    for used in sorted({m for text in texts for m in METRIC.findall(text)}):
        base = next((used.removesuffix(s) for s in SERIES_SUFFIXES if used.endswith(s)), used)
        if used not in defined and base not in defined:
            yield f"queries {used}, which no service exports (grep wagate_ in services/, shared/)"


def unbalanced(expr: str) -> bool:
    """A cheap PromQL sanity check: (), [], {} nest and quotes close (outside quoted strings)."""
    closing = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    quote = ""
    for char in expr:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'`":
            quote = char
        elif char in "([{":
            stack.append(char)
        elif char in closing and (not stack or stack.pop() != closing[char]):
            return True
    return bool(stack or quote)


def dashboard_errors(doc: Doc) -> Iterator[str]:
    if doc.get("kind") != "ConfigMap" or "grafana_dashboard" not in doc["metadata"].get(
        "labels", {}
    ):
        return
    for key, text in (doc.get("data") or {}).items():
        try:
            dashboard = json.loads(text)
        except json.JSONDecodeError as exc:
            yield f"{key} is not JSON: {exc}"
            continue
        if not dashboard.get("uid") or not dashboard.get("panels"):
            yield f"{key} is no Grafana dashboard (needs uid and panels)"
        exprs = [
            target.get("expr", "")
            for panel in dashboard.get("panels", [])
            for target in panel.get("targets", [])
        ]
        for expr in exprs:
            if unbalanced(expr):
                yield f"{key}: unbalanced brackets or quotes in {expr[:80]!r}"


def acl_errors(doc: Doc, docs: list[Doc]) -> Iterator[str]:
    """A KafkaUser's literal topic ACLs must name topics that the render declares."""
    if doc.get("kind") != "KafkaUser":
        return
    topics = {
        d["spec"].get("topicName", d["metadata"]["name"])
        for d in docs
        if d.get("kind") == "KafkaTopic"
    }
    for rule in doc["spec"].get("authorization", {}).get("acls", []):
        resource = rule["resource"]
        literal = resource.get("patternType", "literal") == "literal"
        if resource["type"] == "topic" and literal and resource.get("name") not in topics:
            yield f"ACL on topic {resource.get('name')}, which no KafkaTopic declares"


def load(path: Path) -> list[Doc]:
    with path.open() as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rendered", type=Path, help="output of `kustomize build`")
    parser.add_argument("--kubernetes", action="append", required=True, help="e.g. 1.37")
    parser.add_argument("--dump", type=Path, help="write the documents as JSON here")
    parser.add_argument("--source", type=Path, default=ROOT, help="where services/ and shared/ are")
    parser.add_argument("--site", type=Path, help="the overlay's site.yaml")
    args = parser.parse_args(argv)
    docs = load(args.rendered)
    defined = defined_metrics(args.source)
    generated = generated_secrets(docs)
    failures = (
        [f"{args.rendered.stem}: {m}" for m in site_file_errors(args.site)] if args.site else []
    )
    failures += [
        f"{args.rendered.stem}: {label(doc)}: {message}"
        for doc in docs
        for message in (
            *schema_errors(doc, args.kubernetes),
            *workload_errors(doc, docs),
            *metric_errors(doc, defined),
            *dashboard_errors(doc),
            *acl_errors(doc, docs),
            *secret_errors(doc, generated),
            *placeholder_errors(doc),
            *kafka_errors(doc, docs),
        )
    ]
    if args.dump:
        args.dump.write_text(json.dumps(docs, indent=1))
    for failure in failures:
        print(failure, file=sys.stderr)
    kinds = sorted({str(doc.get("kind")) for doc in docs})
    status = f"{len(failures)} errors" if failures else "valid"
    print(f"{args.rendered.stem}: {len(docs)} resources ({', '.join(kinds)}): {status}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
