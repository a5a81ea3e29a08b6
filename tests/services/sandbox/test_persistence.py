"""The sandbox's world survives a restart: saved atomically, read back whole (templates,
customers, media), across a stop and a start of the service too, and a missing or damaged snapshot
starts an empty world instead of failing."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import pickle
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

from services.sandbox import app, persistence
from services.sandbox.media import MediaFile, MediaLibrary
from services.sandbox.rules.template_model import Template
from services.sandbox.settings import SandboxSettings
from services.sandbox.webhook_sender import Delivery
from services.sandbox.world import World
from shared.media import INBOUND_ID_LIFETIME
from tests.conftest import ROOT, free_port
from tests.services.sandbox.conftest import CUSTOMER, PNID, WABA, new_template

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PNG = (ROOT / "services/templates/starter/media/receipt.png").read_bytes()


def _world() -> World:
    world = World()
    world.templates["1"] = Template(
        "1", "order_update", "en_US", "UTILITY", ({"type": "BODY", "text": "Hi {{1}}"},), NOW,
        status="APPROVED",
    )  # fmt: skip
    world.directory.for_phone("16505551234", "portfolio")
    world.customer_wrote("pn", "16505551234", NOW)
    return world


def test_a_saved_world_is_read_back_whole(tmp_path: Path) -> None:
    path = tmp_path / "state" / "world.pickle"
    pending = [Delivery(b'{"entry": [1]}'), Delivery(b'{"entry": [2]}', bad_signature=True)]
    persistence.save(persistence.Snapshot(_world(), pending), path)
    kept = persistence.load(path)
    restored = kept.world
    assert kept.webhooks == pending
    assert restored.templates["1"].status == "APPROVED"
    assert restored.directory.find("16505551234") is not None
    assert restored.last_message_at("pn", "16505551234") == NOW
    assert [p.name for p in path.parent.iterdir()] == ["world.pickle"]  # no temporary left


def test_saving_replaces_the_snapshot_atomically(tmp_path: Path) -> None:
    path = tmp_path / "world.pickle"
    persistence.save(persistence.Snapshot(_world()), path)
    persistence.save(persistence.Snapshot(), path)
    assert persistence.load(path).world.templates == {}


def test_no_snapshot_or_a_damaged_one_starts_empty(tmp_path: Path) -> None:
    assert persistence.load(tmp_path / "none.pickle").world.templates == {}
    damaged = tmp_path / "damaged.pickle"
    damaged.write_bytes(b"\x80\x05not a pickle")
    assert persistence.load(damaged).world.templates == {}
    persistence.save({"not": "a world"}, damaged)  # type: ignore[arg-type]
    assert persistence.load(damaged).webhooks == []


async def _running(settings: SandboxSettings, stop: asyncio.Event) -> asyncio.Task[None]:
    task = asyncio.create_task(app.run(settings, stop))
    url = f"http://127.0.0.1:{settings.http.port}"
    async with aiohttp.ClientSession() as session:
        for _ in range(200):
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"{url}/readyz") as resp:
                    if resp.status == 200:
                        return task
            await asyncio.sleep(0.05)
    raise AssertionError("the sandbox did not start")


async def test_a_restarted_sandbox_still_has_its_templates_customers_and_webhooks(
    tmp_path: Path,
) -> None:
    port, hook_port = free_port(), free_port()
    settings = SandboxSettings.model_validate(
        {"http": {"port": port}, "webhook_url": f"http://127.0.0.1:{hook_port}/webhook",
         "state_file": tmp_path / "world.pickle", "review_delay_s": 0},
    )  # fmt: skip
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer sandbox-token"}
    stop = asyncio.Event()
    first = await _running(settings, stop)
    async with aiohttp.ClientSession(headers=auth) as session:
        async with session.post(
            f"{url}/v24.0/{WABA}/message_templates", json=new_template("kept", "Still here.")
        ) as resp:
            assert resp.status == 200, await resp.text()
        body = {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hi"}
        async with session.post(f"{url}/_sandbox/customer-messages", json=body) as resp:
            assert resp.status == 200
    stop.set()
    await first  # make stop, while ingest is down: the customer's webhook is still pending
    received: list[bytes] = []

    async def webhook(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response()

    hooks = web.Application()
    hooks.router.add_post("/webhook", webhook)
    runner = web.AppRunner(hooks)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    stop = asyncio.Event()
    second = await _running(settings, stop)  # make run
    try:
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.get(f"{url}/v24.0/{WABA}/message_templates") as resp:
                names = [t["name"] for t in (await resp.json())["data"]]
            async with session.get(f"{url}/_sandbox/customers/{CUSTOMER}") as resp:
                assert resp.status == 200
        for _ in range(200):
            if any(b'"Hi"' in body for body in received):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await second
        await runner.cleanup()
    assert names == ["kept"]
    assert any(b'"Hi"' in body for body in received), received


def test_the_media_library_is_kept_with_the_world(tmp_path: Path) -> None:
    now = [NOW]
    library = MediaLibrary(lambda: now[0])
    uploaded = library.upload(PNID, "image/png", PNG, "whatsapp")
    assert isinstance(uploaded, MediaFile)
    photo = library.received(PNID, "image/png", PNG)
    url = library.url_query(photo.id)
    session = library.open_session("receipt.png", str(len(PNG)), "image/png")
    assert isinstance(session, str)
    handle = library.append(session, "0", PNG)
    header = [{"type": "HEADER", "format": "IMAGE", "example": {"header_handle": [handle]}}]
    path = tmp_path / "world.pickle"
    persistence.save(persistence.Snapshot(World(), [], library.forget_expired()), path)

    restored = MediaLibrary(lambda: now[0], persistence.load(path).media)
    assert restored.find(uploaded.id) is not None
    kept = restored.download(photo.id, url["ext"], url["hash"])  # a url given before still works
    assert kept is not None and kept.data == PNG
    assert restored.header_refusal(header) is None  # the handle issued before is still one
    assert restored.offset(session) == len(PNG)

    now[0] = NOW + INBOUND_ID_LIFETIME  # the customer's file is past Meta's 7 days
    persistence.save(persistence.Snapshot(World(), [], restored.forget_expired()), path)
    later = persistence.load(path).media
    assert set(later.files) == {uploaded.id}  # the upload lives 30 days


def test_a_snapshot_saved_before_media_was_kept_loads_with_no_media(tmp_path: Path) -> None:
    old = persistence.Snapshot(_world())
    del old.media  # what a sandbox without a media library pickled
    path = tmp_path / "world.pickle"
    path.write_bytes(pickle.dumps(old))
    kept = persistence.load(path)
    assert kept.world.templates["1"].status == "APPROVED"
    assert kept.media.files == {} and kept.media.handles == {}


async def test_a_restarted_sandbox_still_serves_a_customers_file(tmp_path: Path) -> None:
    port = free_port()
    settings = SandboxSettings.model_validate(
        {"http": {"port": port}, "webhook_url": f"http://127.0.0.1:{free_port()}/webhook",
         "state_file": tmp_path / "world.pickle", "review_delay_s": 0},
    )  # fmt: skip
    url, auth = f"http://127.0.0.1:{port}", {"Authorization": "Bearer sandbox-token"}
    photo = {"data": base64.b64encode(PNG).decode()}
    body = {"phone_number_id": PNID, "from": CUSTOMER, "type": "image", "image": photo}
    stop = asyncio.Event()
    first = await _running(settings, stop)
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/_sandbox/customer-messages", json=body) as resp:
            assert resp.status == 200, await resp.text()
        async with session.get(f"{url}/_sandbox/media") as resp:
            (media_id,) = [m["id"] for m in (await resp.json())["media"]]
    stop.set()
    await first  # its webhook, naming media_id, waits for ingest in the snapshot
    stop = asyncio.Event()
    second = await _running(settings, stop)
    try:
        async with aiohttp.ClientSession(headers=auth) as session:
            async with session.get(f"{url}/v24.0/{media_id}") as resp:
                assert resp.status == 200, await resp.text()
                described = await resp.json()
            async with session.get(described["url"]) as resp:
                assert resp.status == 200 and await resp.read() == PNG
    finally:
        stop.set()
        await second
