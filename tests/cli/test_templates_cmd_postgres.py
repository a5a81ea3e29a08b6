"""`wagate templates ...` against the API on a real PostgreSQL (fake Cloud API)."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.templates_cmd import templates
from services.templates.starter import FOLDER
from tests.services.templates.conftest import KEY, WABA, Service

pytestmark = pytest.mark.postgres


async def _run(service: Service, *args: str) -> Result:
    url = str(service.client.make_url("")).rstrip("/")
    argv = ["--url", url, "--api-key", KEY, *args]
    with ThreadPoolExecutor(1) as pool:
        return await asyncio.get_running_loop().run_in_executor(
            pool, lambda: CliRunner().invoke(templates, argv)
        )


async def test_create_list_show_preview_translate_sync_delete(
    service: Service, tmp_path: Path
) -> None:
    result = await _run(
        service, "create", str(FOLDER / "shipping_update.en_US.json"), "--waba", WABA
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "PENDING"

    spanish = json.loads((FOLDER / "shipping_update.es.json").read_text())
    (tmp_path / "es.yaml").write_text(
        f"language: es\ncomponents: {json.dumps(spanish['components'], ensure_ascii=False)}\n"
    )
    result = await _run(service, "translate", WABA, "shipping_update", str(tmp_path / "es.yaml"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["language"] == "es"

    result = await _run(service, "list", "--waba", WABA, "--language", "es")
    assert [t["name"] for t in json.loads(result.output)["templates"]] == ["shipping_update"]

    result = await _run(service, "show", WABA, "shipping_update", "es", "--history")
    assert [h["change"] for h in json.loads(result.output)["history"]] == ["created", "submitted"]

    params = json.dumps({"header": ["A1"], "body": ["Ana", "A1", "today"], "buttons": {"0": "A1"}})
    result = await _run(service, "preview", WABA, "shipping_update", "en_US", "--params", params)
    assert json.loads(result.output)["body"].startswith("Hi Ana, your order A1 has shipped")

    result = await _run(service, "sync", WABA)
    assert result.exit_code == 0 and json.loads(result.output)["missing"] == 0

    result = await _run(service, "fallbacks", WABA, "shipping_update", "es", "en_US")
    assert json.loads(result.output) == {"languages": ["es", "en_US"]}
    assert service.states()[-1].language == "es"
    assert service.states()[-1].fallback_languages == ("en_US",)

    result = await _run(service, "submit", WABA, "shipping_update", "es")
    assert result.exit_code == 1 and json.loads(result.output)["error"]["code"] == "WRONG_STATUS"
    result = await _run(service, "unpause", WABA, "shipping_update", "es")
    assert result.exit_code == 1

    (tmp_path / "edit.json").write_text(json.dumps({"components": spanish["components"][1:]}))
    result = await _run(service, "edit", WABA, "shipping_update", "es", str(tmp_path / "edit.json"))
    assert result.exit_code == 1  # PENDING: Meta edits only approved, rejected or paused ones
    assert json.loads(result.output)["errors"][0]["code"] == "NOT_EDITABLE"

    result = await _run(service, "delete", WABA, "shipping_update", "--language", "es")
    assert [t["language"] for t in json.loads(result.output)["deleted"]] == ["es"]


async def test_refusals_exit_1(service: Service, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "Bad", "language": "en", "category": "UTILITY"}))
    result = await _run(service, "validate", str(bad))
    assert result.exit_code == 1
    assert {e["field"] for e in json.loads(result.output)["errors"]} == {"name", "components"}
    result = await _run(service, "create", str(bad), "--waba", WABA)
    assert result.exit_code == 1
    result = await _run(service, "show", WABA, "nothing", "en")
    assert result.exit_code == 1 and json.loads(result.output)["error"]["code"] == "NOT_FOUND"
