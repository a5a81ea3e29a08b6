"""Media header samples carried by a template: checked against what the header takes, then
uploaded through the Resumable Upload API (resuming from where it stands) for their handle."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from services.templates.header_samples import ResumableUploads, sample_refusals, with_handles
from services.templates.settings import TemplatesCloudApi
from services.templates.starter import starter_templates

SAMPLES = Path(__file__).parents[3] / "services/templates/starter/media"
PNG = (SAMPLES / "receipt.png").read_bytes()
PDF = (SAMPLES / "itinerary.pdf").read_bytes()


def template(fmt: str, data: bytes, mime: str | None = None) -> dict[str, Any]:
    sample: dict[str, Any] = {"data": base64.b64encode(data).decode(), "file_name": "s"}
    if mime:
        sample["mime_type"] = mime
    header = {"type": "HEADER", "format": fmt, "example": {"header_sample": sample}}
    return {"name": "t", "components": [header, {"type": "BODY", "text": "Hi"}]}


@pytest.mark.parametrize(
    ("fmt", "data", "mime", "words"),
    [
        ("IMAGE", PNG, None, None),
        ("DOCUMENT", PDF, "application/pdf", None),
        ("IMAGE", PDF, None, "not unknown bytes"),  # a PDF is no image
        ("IMAGE", PNG, "image/jpeg", "labelled image/jpeg"),
        ("VIDEO", PNG, "image/png", "VIDEO header sample is video/mp4"),
        ("TEXT", PNG, None, "only IMAGE, VIDEO and DOCUMENT"),
    ],
)
def test_a_sample_is_checked_against_what_its_header_takes(
    fmt: str, data: bytes, mime: str | None, words: str | None
) -> None:
    issues = sample_refusals(template(fmt, data, mime))
    if words is None:
        assert issues == []
    else:
        assert len(issues) == 1 and words in issues[0].message, issues
        assert issues[0].field == "components[0].example.header_sample"


def test_the_starter_library_carries_real_samples_of_each_media_header() -> None:
    kinds = {}
    for tpl in starter_templates():
        for component in tpl["components"]:
            sample = component.get("example", {}).get("header_sample")
            if sample is not None:
                kinds[component["format"]] = sample["mime_type"]
        assert sample_refusals(tpl) == []
    assert kinds == {"IMAGE": "image/png", "DOCUMENT": "application/pdf", "VIDEO": "video/mp4"}


async def test_an_interrupted_upload_resumes_from_its_offset_for_the_handle() -> None:
    got = bytearray()
    posts: list[str] = []

    async def open_session(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "OAuth sandbox-token"
        assert request.query["file_length"] == str(len(PNG))
        return web.json_response({"id": "upload:abc"})

    async def append(request: web.Request) -> web.Response:
        posts.append(request.headers["file_offset"])
        chunk = await request.read()
        assert int(request.headers["file_offset"]) == len(got)
        if len(posts) == 1:  # the first try breaks off halfway
            got.extend(chunk[: len(chunk) // 2])
            return web.json_response({"error": {"code": 1, "message": "x"}}, status=500)
        got.extend(chunk)
        return web.json_response({"h": "4::handle"})

    async def state(_: web.Request) -> web.Response:
        return web.json_response({"id": "upload:abc", "file_offset": len(got)})

    app = web.Application()
    app.router.add_post("/v24.0/300000000000001/uploads", open_session)
    app.router.add_post("/v24.0/upload:abc", append)
    app.router.add_get("/v24.0/upload:abc", state)
    server = TestServer(app)
    await server.start_server()
    try:
        settings = TemplatesCloudApi(base_url=str(server.make_url("")).rstrip("/"), version="v24.0")
        async with aiohttp.ClientSession() as session:
            uploads = ResumableUploads(session, settings)
            body = await with_handles(template("IMAGE", PNG), uploads)
            again = await with_handles(template("IMAGE", PNG), uploads)  # once per content
    finally:
        await server.close()
    assert bytes(got) == PNG and posts == ["0", str(len(PNG) // 2)]
    assert body["components"][0]["example"] == {"header_handle": ["4::handle"]}
    assert again == body and len(posts) == 2
