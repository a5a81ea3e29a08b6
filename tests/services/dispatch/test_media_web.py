"""`POST /media` on dispatch: behind its keys, off without any, refusing before any upload."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.dispatch.media import MediaUploads
from services.dispatch.media_store import LocalStore
from services.dispatch.media_web import upload_route
from tests.services.dispatch.test_media import PDF, Clock, FakeMediaApi, MemoryCache

AUTH = {"Authorization": "Bearer k"}


async def client(
    tmp_path: Path, keys: list[str]
) -> tuple[TestClient[web.Request, web.Application], FakeMediaApi]:
    api = FakeMediaApi()
    uploads = MediaUploads(api, MemoryCache(), LocalStore(tmp_path), Clock(), timedelta(0))  # type: ignore[arg-type]
    app = web.Application()
    app.router.add_post("/media", upload_route(uploads, keys))
    test_client = TestClient(TestServer(app))
    await test_client.start_server()
    return test_client, api


async def test_uploads_need_a_key_and_are_off_without_any(tmp_path: Path) -> None:
    off, _ = await client(tmp_path, [])
    async with off.post("/media?phone_number_id=1", data=PDF, headers=AUTH) as resp:
        assert resp.status == 503 and "DISPATCH_MEDIA__API_KEYS" in await resp.text()
    await off.close()
    on, api = await client(tmp_path, ["k"])
    for headers in ({}, {"Authorization": "Bearer nope"}):
        async with on.post("/media?phone_number_id=1", data=PDF, headers=headers) as resp:
            assert resp.status == 401
    async with on.post("/media", data=PDF, headers=AUTH) as resp:
        assert resp.status == 400 and "phone_number_id" in await resp.text()
    assert api.calls == []
    await on.close()


async def test_a_refused_file_is_400_with_the_reason_and_a_good_one_its_id(tmp_path: Path) -> None:
    test_client, api = await client(tmp_path, ["k"])
    query = "/media?phone_number_id=1&type=image/png&filename=t.png"
    async with test_client.post(query, data=PDF, headers=AUTH) as resp:
        body = await resp.json()
        assert resp.status == 400 and body["error"]["code"] == 131053
        assert "labelled image/png" in body["error"]["reason"]
    assert api.calls == []
    for reused in (False, True):
        async with test_client.post("/media?phone_number_id=1", data=PDF, headers=AUTH) as resp:
            body = await resp.json()
            assert resp.status == 200 and body["reused"] is reused
            assert (
                body["ref"] == "sha256:" + body["sha256"] and body["mime_type"] == "application/pdf"
            )
    assert len(api.calls) == 1
    await test_client.close()


async def test_a_query_value_with_a_control_character_is_refused_before_any_upload(
    tmp_path: Path,
) -> None:
    test_client, api = await client(tmp_path, ["k"])
    for query in ("filename=a%0D%0AX-Evil:%201", "phone_number_id=1%00", "type=application/pdf%0A"):
        url = f"/media?phone_number_id=1&{query}" if "phone" not in query else f"/media?{query}"
        async with test_client.post(url, data=PDF, headers=AUTH) as resp:
            body = await resp.json()
            assert resp.status == 400 and "control character" in body["error"]["reason"], body
    assert api.calls == []
    await test_client.close()
