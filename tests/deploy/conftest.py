"""Where the manifests and the deploy tools are; tests that run the tools need them installed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
TOOLS = Path(os.environ.get("WAGATE_LOCAL", ROOT / ".local")) / "deploy-tools"


@pytest.fixture(scope="module")
def tools() -> None:
    if not (TOOLS / "bin/kustomize").exists() or not (TOOLS / "venv/bin/python").exists():
        unavailable("deploy tools", f"nothing in {TOOLS}: run `make deploy-tools` once")
