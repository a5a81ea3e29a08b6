"""docs/signals.md names the tests behind its claims, policy's settings and the metrics: every
test it names exists, and every setting and metric it names is one the code has."""

from __future__ import annotations

import re

import pytest

from services.dispatch.metrics import DispatchMetrics
from services.policy.metrics import PolicyMetrics
from services.policy.settings import PolicySettings
from shared.metrics import new_registry
from tests.conftest import ROOT

pytestmark = pytest.mark.unit
DOC = (ROOT / "docs" / "signals.md").read_text()
TESTS = sorted(set(re.findall(r"`((?:\w+/)*test_\w+\.py)::(\w+)`", DOC)))


def test_the_doc_names_tests() -> None:
    assert len(TESTS) >= 15


@pytest.mark.parametrize(("path", "name"), TESTS, ids=[f"{p}::{n}" for p, n in TESTS])
def test_every_test_the_doc_names_exists(path: str, name: str) -> None:
    source = ROOT / "tests" / path
    assert source.is_file(), path
    assert re.search(rf"^(async )?def {name}\(", source.read_text(), re.M), (path, name)


def test_the_settings_and_metrics_it_names_exist() -> None:
    settings = {s.lower() for s in re.findall(r"`POLICY_([A-Z_]+)[=`]", DOC)}
    assert settings and settings <= set(PolicySettings.model_fields)
    registry = new_registry()
    PolicyMetrics(registry)
    DispatchMetrics(registry)
    known = {m.name for m in registry.collect()}
    named = {re.sub(r"_total$", "", m) for m in re.findall(r"`(wagate_\w+)\{", DOC)}
    assert named and named <= known
