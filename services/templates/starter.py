"""The starter library: valid templates for everyday cases in English, Spanish and Portuguese
(`starter/<name>.<language>.json`, each Meta's creation request). Media headers name their
sample file (`starter/media/`), carried inline and uploaded for its handle at creation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.media_upload import inline_samples

FOLDER = Path(__file__).with_name("starter")


def starter_templates(folder: Path = FOLDER) -> list[dict[str, Any]]:
    templates: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")):
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            templates.append(inline_samples(loaded, folder))
    return templates
