"""docs/doors.md names the tests behind its claims: every test it names exists, and the settings
and metrics it names for ingest and the HTTP limits are the ones the code has."""

from __future__ import annotations

import re

import pytest

from services.ingest.metrics import IngestMetrics
from services.ingest.settings import IngestSettings
from shared.metrics import new_registry
from shared.settings import HttpSettings
from tests.conftest import ROOT

DOORS = (ROOT / "docs" / "doors.md").read_text()
REFERENCE = re.compile(r"`((?:[\w]+/)*\w+\.py)?(?:::(\w+))?`")


def _references() -> list[tuple[str, str | None]]:
    found, last = [], None
    for path, name in REFERENCE.findall(DOORS):
        if path:
            last = path
        if last and (path or name):
            found.append((last, name or None))
    return found


REFERENCES = _references()


def test_the_doc_names_tests() -> None:
    assert len(REFERENCES) > 30


@pytest.mark.parametrize(("path", "name"), REFERENCES, ids=[f"{p}::{n}" for p, n in REFERENCES])
def test_every_test_the_doc_names_exists(path: str, name: str | None) -> None:
    source = ROOT / "tests" / path
    if name is None and not source.is_file():
        source = ROOT / path  # a module of the code, e.g. services/ingest/contents.py
    assert source.is_file(), path
    if name is not None:
        assert re.search(rf"^(async )?def {name}\(", source.read_text(), re.M), (path, name)


def test_the_settings_and_metrics_it_names_exist() -> None:
    named_settings = {s for s in re.findall(r"`INGEST_([A-Z_]+)`", DOORS) if "__" not in s}
    assert {s.lower() for s in named_settings} <= set(IngestSettings.model_fields)
    limits = set(re.findall(r"^\| `(\w+)` \| \d+ \|", DOORS, re.M))
    assert limits == set(HttpSettings.model_fields) - {"host", "port"}
    registry = new_registry()
    IngestMetrics(registry)
    known = {m.name for m in registry.collect()}
    named = set(re.findall(r"`(wagate_ingest_\w+?)(?:_total)?[{`]", DOORS))
    assert named - {"wagate_ingest_http_refused", "wagate_ingest_http_open_connections"} <= known
