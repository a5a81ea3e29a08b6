"""The sandbox's media: uploads checked as Meta checks them, expiring download urls behind the
token, deletion, the Resumable Upload API and its handles, customers sending files."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.sandbox.media import MediaFile, MediaLibrary
from tests.services.sandbox.conftest import PNID, TEMPLATES, TOKEN, Stack, StackFactory

SAMPLES = Path(__file__).parents[3] / "services/templates/starter/media"
PNG = (SAMPLES / "receipt.png").read_bytes()
PDF = (SAMPLES / "itinerary.pdf").read_bytes()
APP = "300000000000001"


async def upload(
    stack: Stack, data: bytes, mime: str, product: str = "whatsapp", headers: Any = TOKEN
) -> tuple[int, Any]:
    form = aiohttp.FormData()
    form.add_field("messaging_product", product)
    form.add_field("type", mime)
    form.add_field("file", io.BytesIO(data), filename="f", content_type=mime)
    async with stack.client.post(f"/v24.0/{PNID}/media", data=form, headers=headers) as resp:
        return resp.status, await resp.json()


async def test_an_upload_is_described_downloaded_with_the_token_and_deleted(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    status, body = await upload(stack, PNG, "image/png")
    assert status == 200 and body["id"].isdigit()
    status, described = await stack.call("GET", f"/v24.0/{body['id']}")
    assert status == 200
    assert described["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert (described["mime_type"], described["file_size"]) == ("image/png", len(PNG))
    async with stack.client.session.get(described["url"]) as resp:
        assert resp.status == 401  # the url alone is not enough
    async with stack.client.session.get(described["url"], headers=TOKEN) as resp:
        assert resp.status == 200 and await resp.read() == PNG
    other = await stack.call("GET", f"/v24.0/{body['id']}?phone_number_id=999")
    assert other[0] == 400 and other[1]["error"]["code"] == 100
    assert await stack.call("DELETE", f"/v24.0/{body['id']}") == (200, {"success": True})
    gone = await stack.call("GET", f"/v24.0/{body['id']}")
    assert gone[0] == 400  # not a media id any more: read as a template, which it is not
    async with stack.client.session.get(described["url"], headers=TOKEN) as resp:
        assert resp.status == 404


@pytest.mark.parametrize(
    ("data", "mime", "code", "words"),
    [
        (PNG, "image/gif", 100, "following types"),
        (PNG, "image/jpeg", 131053, "labelled image/jpeg but its bytes are image/png"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "image/png", 131053, "at most"),
        (PDF, "video/mp4", 131053, "application/pdf"),
        (b"\x00\x01binary", "text/plain", 131053, "no known type"),
    ],
)
async def test_uploads_meta_refuses_are_refused_with_its_codes(
    make_stack: StackFactory, data: bytes, mime: str, code: int, words: str
) -> None:
    stack = await make_stack()
    status, body = await upload(stack, data, mime)
    assert status == 400 and body["error"]["code"] == code
    assert words in body["error"]["error_data"]["details"]
    assert stack.sandbox.media.files == {}


async def test_an_upload_needs_the_token_and_the_messaging_product(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    assert (await upload(stack, PNG, "image/png", headers={}))[0] == 401
    status, body = await upload(stack, PNG, "image/png", product="sms")
    assert status == 400 and body["error"]["code"] == 100


def test_download_urls_expire_after_five_minutes_and_uploads_after_thirty_days() -> None:
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    library = MediaLibrary(lambda: now[0])
    kept = library.upload(PNID, "image/png", PNG, "whatsapp")
    assert isinstance(kept, MediaFile)
    query = library.url_query(kept.id)
    assert library.download(kept.id, query["ext"], query["hash"]) is kept
    assert library.download(kept.id, query["ext"], "0" * 64) is None  # forged
    now[0] += timedelta(minutes=5)
    assert library.download(kept.id, query["ext"], query["hash"]) is None
    assert library.find(kept.id) is kept
    now[0] += timedelta(days=30)
    assert library.find(kept.id) is None


async def _resumable(stack: Stack, data: bytes, mime: str, chunks: int = 2) -> tuple[int, Any]:
    query = f"file_name=sample&file_length={len(data)}&file_type={mime}"
    status, opened = await stack.call("POST", f"/v24.0/{APP}/uploads?{query}")
    assert status == 200 and opened["id"].startswith("upload:"), opened
    oauth = {"Authorization": "OAuth sandbox-token"}
    size = -(-len(data) // chunks)
    answer: tuple[int, Any] = (0, None)
    for offset in range(0, len(data), size):
        headers = {**oauth, "file_offset": str(offset)}
        piece = data[offset : offset + size]
        async with stack.client.post(f"/v24.0/{opened['id']}", data=piece, headers=headers) as r:
            answer = (r.status, await r.json())
        async with stack.client.get(f"/v24.0/{opened['id']}", headers=oauth) as r:
            assert (await r.json())["file_offset"] == offset + len(piece)
    return answer


def media_template(handle: str, kind: str = "IMAGE") -> dict[str, Any]:
    return {
        "name": "receipt",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": kind, "example": {"header_handle": [handle]}},
            {
                "type": "BODY",
                "text": "Your receipt {{1}} is attached.",
                "example": {"body_text": [["A-1"]]},
            },
        ],
    }


async def test_a_resumable_upload_gives_a_handle_only_template_creation_takes(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    status, answer = await _resumable(stack, PNG, "image/png")
    assert status == 200 and answer["h"].startswith("4::")
    refused = await stack.call("POST", TEMPLATES, media_template("4::aW1hZ2U=:made-up"))
    assert refused[0] == 400 and "Resumable Upload API" in str(refused[1])
    wrong_kind = await stack.call("POST", TEMPLATES, media_template(answer["h"], "DOCUMENT"))
    assert wrong_kind[0] == 400 and "image/png" in str(wrong_kind[1])
    created = await stack.call("POST", TEMPLATES, media_template(answer["h"]))
    assert created[0] == 200, created


async def test_a_resumable_upload_resumes_only_from_where_it_stands(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    query = f"file_name=s.pdf&file_length={len(PDF)}&file_type=application/pdf"
    _, opened = await stack.call("POST", f"/v24.0/{APP}/uploads?{query}")
    headers = {**TOKEN, "file_offset": "7"}
    async with stack.client.post(f"/v24.0/{opened['id']}", data=PDF, headers=headers) as r:
        assert r.status == 400 and "file_offset must be 0" in str(await r.json())
    bad_type = await stack.call(
        "POST", f"/v24.0/{APP}/uploads?file_name=a&file_length=3&file_type=text/html"
    )
    assert bad_type[0] == 400
    other_app = await stack.call("POST", f"/v24.0/1/uploads?{query}")
    assert other_app[0] == 400
    mislabelled = await _resumable(stack, PDF, "image/png", chunks=1)
    assert mislabelled[0] == 400 and mislabelled[1]["error"]["code"] == 131053


async def test_a_customer_sends_a_photo_the_business_can_fetch(make_stack: StackFactory) -> None:
    stack = await make_stack()
    photo = {"data": base64.b64encode(PNG).decode(), "caption": "the parcel"}
    request = {"phone_number_id": PNID, "from": "16505551234", "type": "image", "image": photo}
    assert (await stack.call("POST", "/_sandbox/customer-messages", request))[0] == 200
    await stack.settle()
    item = stack.receiver.payloads()[-1]["entry"][0]["changes"][0]["value"]["messages"][0]
    image = item["image"]
    assert image["sha256"] == hashlib.sha256(PNG).hexdigest() and "data" not in image
    assert (image["mime_type"], image["caption"]) == ("image/png", "the parcel")
    _, described = await stack.call("GET", f"/v24.0/{image['id']}")
    async with stack.client.session.get(described["url"], headers=TOKEN) as resp:
        assert await resp.read() == PNG
    bare = {**request, "image": {}}  # no file given: a small sample of its kind
    assert (await stack.call("POST", "/_sandbox/customer-messages", bare))[0] == 200
    broken = {**request, "image": {"data": "not base64!"}}
    assert (await stack.call("POST", "/_sandbox/customer-messages", broken))[0] == 400
