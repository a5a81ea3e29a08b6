"""Media end to end through the sandbox: an image-header template created from a local file and
approved; a local PDF sent as a document by media id, uploaded once and reused; a customer's
photo kept with its reference and checksum; a mislabelled or oversized file refused before any
call to the Cloud API, with a clear error."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer
from click.testing import CliRunner

from cli.main import main
from services.templates.starter import FOLDER
from shared import codec
from shared.client import WagateClient
from shared.events.intents import MediaContent, OutboundIntentSubmitted
from shared.events.media import InboundMediaReported
from shared.media_upload import MediaRefused, upload_media
from shared.topics import INBOUND_MEDIA
from tests.e2e.conftest import System
from tests.e2e.test_fallbacks_e2e import sandbox
from tests.e2e.test_templates_lifecycle import _templates_on_sandbox
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]
WABA = "100000000000001"
KEY = "wagate-dev-key"
CUSTOMER = "16505551234"
PNG = (FOLDER / "media" / "receipt.png").read_bytes()
PDF = (FOLDER / "media" / "itinerary.pdf").read_bytes()


async def _kept_files(system: System) -> list[dict[str, Any]]:
    return list((await sandbox(system, "GET", "/_sandbox/media"))["media"])


async def test_an_image_header_template_is_created_from_a_local_file_and_approved(
    system: System, tmp_path: Path
) -> None:
    await _templates_on_sandbox(system)
    shutil.copy(FOLDER / "media" / "receipt.png", tmp_path / "photo.png")
    template = {
        "name": "order_receipt",
        "language": "en_US",
        "category": "UTILITY",
        "components": [
            {"type": "HEADER", "format": "IMAGE", "example": {"header_sample": "photo.png"}},
            {
                "type": "BODY",
                "text": "Hello {{1}}, your receipt for order {{2}} is attached.",
                "example": {"body_text": [["Maria", "A-1042"]]},
            },
        ],
    }
    (tmp_path / "receipt.json").write_text(json.dumps(template))
    env = {"WAGATE_TEMPLATES_URL": system.url("templates"), "WAGATE_TEMPLATES_API_KEY": KEY}
    args = ["--json", "templates", "create", str(tmp_path / "receipt.json"), "--waba", WABA]
    created = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
    assert created.exit_code == 0, created.output + system.log_tail("templates")
    deadline = time.monotonic() + 60
    status = None
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session:
        while time.monotonic() < deadline and status != "APPROVED":
            url = f"{system.url('templates')}/v1/templates/{WABA}/order_receipt/en_US"
            async with session.get(url) as resp:
                status = (await resp.json()).get("status")
            await asyncio.sleep(0.3)
    assert status == "APPROVED", system.log_tail("templates")
    [at_meta] = [
        t
        for t in (await sandbox(system, "GET", "/_sandbox/templates"))["data"]
        if t["name"] == "order_receipt"
    ]
    [handle] = at_meta["components"][0]["example"]["header_handle"]
    assert handle.startswith("4::")  # a handle the Resumable Upload API issued, not the file


async def test_documents_by_media_id_customers_photos_and_refusals(
    system: System, tmp_path: Path
) -> None:
    dispatch = system.url("dispatch")
    await system.customer_writes(PHONE_NUMBER_ID, CUSTOMER, "Can you send my ticket?")
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 1)

    # a local PDF: uploaded once, the same media id on the second upload and on both sends
    ticket = tmp_path / "ticket.pdf"
    ticket.write_bytes(PDF)
    first = await upload_media(dispatch, KEY, PHONE_NUMBER_ID, ticket)
    again = await upload_media(dispatch, KEY, PHONE_NUMBER_ID, ticket)
    assert (first["reused"], again["reused"]) == (False, True)
    assert again["media_id"] == first["media_id"] and first["mime_type"] == "application/pdf"
    by_id = MediaContent(type="document", id=first["media_id"], filename="ticket.pdf")
    by_ref = MediaContent(type="document", ref=first["ref"], filename="ticket.pdf")
    async with WagateClient(system.kafka) as client:
        for content in (by_id, by_ref):
            intent = OutboundIntentSubmitted(
                intent_id=f"e2e-{uuid.uuid4()}", phone_number_id=PHONE_NUMBER_ID, to=CUSTOMER,
                content=content, priority="reply",
            )  # fmt: skip
            updates = await client.send_and_wait(intent, timeout_s=60)
            assert updates[0].state == "accepted", (updates, system.log_tail("dispatch"))
    sent = await sandbox(system, "GET", f"/_sandbox/messages?phone_number_id={PHONE_NUMBER_ID}")
    documents = [m["message"] for m in sent["sent"] if m["kind"] == "document"]
    assert documents == [{"id": first["media_id"], "filename": "ticket.pdf"}] * 2
    uploaded = [f for f in await _kept_files(system) if f["sha256"] == first["sha256"]]
    assert len(uploaded) == 1  # uploaded to the Cloud API once

    # a customer's photo: fetched, kept by its hash, reported with reference and checksum
    photo = {"data": base64.b64encode(PNG).decode(), "caption": "the parcel arrived like this"}
    request = {
        "phone_number_id": PHONE_NUMBER_ID,
        "from": CUSTOMER,
        "type": "image",
        "image": photo,
    }
    wamid = (await sandbox(system, "POST", "/_sandbox/customer-messages", request))["id"]
    report = await _media_report(system, wamid)
    assert report.outcome == "stored", report
    assert report.sha256 == hashlib.sha256(PNG).hexdigest() and report.mime_type == "image/png"
    assert report.reference is not None
    assert Path(report.reference.removeprefix("file://")).read_bytes() == PNG
    assert report.caption == "the parcel arrived like this"

    # refused before any call: a PDF named as a picture, a picture over Meta's 5 MB
    before = await _kept_files(system)
    fake = tmp_path / "photo.jpg"
    fake.write_bytes(PDF)
    with pytest.raises(MediaRefused, match="labelled image/jpeg but its bytes are"):
        await upload_media(dispatch, KEY, PHONE_NUMBER_ID, fake)
    huge = tmp_path / "huge.png"
    huge.write_bytes(PNG + b"\0" * (5 * 1024 * 1024))
    with pytest.raises(MediaRefused, match="at most 5242880 bytes"):
        await upload_media(dispatch, KEY, PHONE_NUMBER_ID, huge)
    async with (  # dispatch refuses it too, before calling the Cloud API
        aiohttp.ClientSession() as session,
        session.post(
            f"{dispatch}/media",
            params={"phone_number_id": PHONE_NUMBER_ID, "type": "image/png"},
            data=PDF,
            headers={"Authorization": f"Bearer {KEY}"},
        ) as resp,
    ):
        assert resp.status == 400
        assert "labelled image/png" in (await resp.json())["error"]["reason"]
    assert await _kept_files(system) == before
    logged = system.log_tail("dispatch", 100_000)  # download urls and tokens never logged
    assert "/whatsapp_business/attachments/" not in logged and "sandbox-token" not in logged


async def _media_report(system: System, message_id: str) -> InboundMediaReported:
    consumer = AIOKafkaConsumer(
        system.kafka.topic(INBOUND_MEDIA.name),
        bootstrap_servers=system.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    report = codec.decode(InboundMediaReported, record.value)
                    if report.message_id == message_id:
                        return report
    finally:
        await consumer.stop()
    pytest.fail(f"no media report for {message_id}:\n{system.log_tail('dispatch')}")
