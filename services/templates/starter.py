"""The starter library: valid templates for everyday cases in English, Spanish and Portuguese
(`starter/<name>.<language>.json`, each Meta's creation request)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).with_name("starter")


def starter_templates(folder: Path = FOLDER) -> list[dict[str, Any]]:
    templates: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            templates.append(loaded)
    return templates
