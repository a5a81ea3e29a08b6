"""`wagate media upload`: a file Meta would refuse is refused before any call; a good one is
handed to dispatch with its type, and dispatch's answer printed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from cli.main import main
from shared.media_upload import MediaRefused, checked

SAMPLES = Path(__file__).parents[2] / "services/templates/starter/media"
NOWHERE = "http://127.0.0.1:1"


def run(*args: str, url: str = NOWHERE) -> Any:
    env = {"WAGATE_DISPATCH_URL": url, "WAGATE_MEDIA_API_KEY": "k"}
    return CliRunner().invoke(main, ["--json", "media", "upload", *args], env=env)


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("photo.jpg", (SAMPLES / "itinerary.pdf").read_bytes(), "application/pdf"),
        ("big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "at most 5242880"),
        ("blob.bin", b"\x00\x01\x02\x03", "no type WhatsApp takes"),
    ],
)
def test_a_file_meta_would_refuse_never_leaves(
    tmp_path: Path, name: str, data: bytes, words: str
) -> None:
    (tmp_path / name).write_bytes(data)
    result = run(str(tmp_path / name), "--number", "1")
    assert result.exit_code == 1, result.output  # refused, not "dispatch unreachable" (69)
    assert "refused" in result.output and words in result.output


def test_a_mislabelled_file_is_refused_by_its_bytes(tmp_path: Path) -> None:
    pdf = tmp_path / "ticket.pdf"
    pdf.write_bytes((SAMPLES / "itinerary.pdf").read_bytes())
    result = run(str(pdf), "--number", "1", "--type", "image/png")
    assert result.exit_code == 1 and "labelled image/png" in result.output
    with pytest.raises(MediaRefused, match="no type"):
        checked(b"", "x")  # an empty file is refused too
    assert run(str(tmp_path / "missing.pdf"), "--number", "1").exit_code == 1


async def test_a_good_file_goes_to_dispatch_with_its_type(tmp_path: Path) -> None:
    seen: list[tuple[dict[str, str], bytes, str]] = []

    async def media(request: web.Request) -> web.Response:
        seen.append((dict(request.query), await request.read(), request.headers["Authorization"]))
        return web.json_response({"media_id": "42", "ref": "sha256:x", "reused": False})

    app = web.Application()
    app.router.add_post("/media", media)
    server = TestServer(app)
    await server.start_server()
    try:
        pdf = tmp_path / "ticket.pdf"
        pdf.write_bytes((SAMPLES / "itinerary.pdf").read_bytes())
        url = str(server.make_url("/"))
        result = await _in_thread(str(pdf), url)
    finally:
        await server.close()
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["media_id"] == "42"
    query, body, auth = seen[0]
    assert query == {"phone_number_id": "1", "type": "application/pdf", "filename": "ticket.pdf"}
    assert body == pdf.read_bytes() and auth == "Bearer k"


async def _in_thread(path: str, url: str) -> Any:
    return await asyncio.to_thread(run, path, "--number", "1", url=url)
