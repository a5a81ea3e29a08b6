"""Ingest as a process, attacked at its door: signed bodies that mix valid and invalid items,
bodies that are not standard JSON, oversized and deeply nested bodies, and 200 slow connections.
Nothing gets a 5xx, every valid item lands once on its topic, every invalid one is on the unparsed
topic with its reason, and the sandbox's webhooks keep getting through."""

from __future__ import annotations

import asyncio
import io
import json
import time
from typing import Any

import aiohttp
import pytest

from shared.topics import (
    INBOUND_MESSAGES,
    STATUSES,
    WEBHOOKS_RAW,
    WEBHOOKS_UNPARSED,
    TopicSpec,
)
from shared.webhook_signature import HEADER, sign
from tests.e2e.conftest import System
from tests.services.ingest.topics import read_all, records_eventually
from tests.shared.slow_clients import holding, slow_body, slow_headers

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

SECRET = "sandbox-app-secret"  # what the sandbox signs with and ingest accepts by default
PNID = "106540352242922"
CUSTOMER = "16505551234"
BSUID = "US.13491208655302741918"


def _message(wamid: str, **fields: Any) -> dict[str, Any]:
    item = {"from": CUSTOMER, "id": wamid, "timestamp": str(int(time.time()) - 5),
            "type": "text", "text": {"body": "Is it in stock?"}}  # fmt: skip
    item.update(fields)
    return {k: v for k, v in item.items() if v is not None}


VALID = [
    _message("wamid.e2e.valid.1"),
    _message("wamid.e2e.valid.2", from_user_id=BSUID),
    _message("wamid.e2e.bsuid", **{"from": None, "from_user_id": BSUID}),  # a username's
]
INVALID = [
    (_message("wamid.e2e.image", type="image"), "malformed", "carries `text`"),
    (_message("wamid.e2e.nul", text={"body": "a\x00b"}), "malformed", "NUL"),
    (_message("wamid.e2e.bsuid.from", **{"from": BSUID}), "malformed", "holds a BSUID"),
    (_message("wamid.e2e.crlf", from_user_id="US.1\r\nX: y"), "malformed", "control character"),
    ("not an object", "malformed", "not an object"),
]  # fmt: skip
STATUS = {"id": "wamid.e2e.out", "status": "delivered", "timestamp": "1750263773",
          "recipient_id": CUSTOMER}  # fmt: skip


def _body(messages: list[Any], statuses: list[Any]) -> bytes:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": PNID},
             "messages": messages, "statuses": statuses}  # fmt: skip
    entry = {"id": "100000000000001", "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


async def _post(session: aiohttp.ClientSession, url: str, body: bytes) -> tuple[int, float]:
    started = time.monotonic()
    headers = {HEADER: sign(body, SECRET), "Content-Type": "application/json"}
    async with session.post(f"{url}/webhook", data=io.BytesIO(body), headers=headers) as resp:
        await resp.read()
        return resp.status, time.monotonic() - started


async def _eventually(system: System, spec: TopicSpec, count: int) -> list[dict[str, Any]]:
    return await records_eventually(system.kafka, spec, count, lambda: system.log_tail("ingest"))


async def test_hostile_bodies_never_get_a_5xx_and_every_item_goes_where_it_belongs(
    system: System,
) -> None:
    url = system.url("ingest")
    mixed = [VALID[0], *(i for i, _, _ in INVALID), *VALID[1:], VALID[0]]
    hostile = {
        "mixed": _body(mixed, [STATUS, 7, STATUS]),
        "nan": _body([_message("wamid.e2e.nan")], []).replace(b'"Is it in stock?"', b"NaN"),
        "not-utf8": b'{"entry": "\xff\xfe"}',
        "nested": b'{"entry": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        "too-large": b'{"entry": [], "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}',
    }
    async with aiohttp.ClientSession() as session:
        answers = {name: (await _post(session, url, body))[0] for name, body in hostile.items()}
        async with session.get(f"{url}/readyz") as resp:
            ready = resp.status

    assert answers == {"mixed": 200, "nan": 400, "not-utf8": 400, "nested": 400, "too-large": 413}
    assert ready == 200
    inbound = await _eventually(system, INBOUND_MESSAGES, len(VALID))
    assert sorted(m["message_id"] for m in inbound) == sorted(v["id"] for v in VALID)
    assert [s["message_id"] for s in await read_all(system.kafka, STATUSES)] == [STATUS["id"]]
    unparsed = await _eventually(system, WEBHOOKS_UNPARSED, len(INVALID) + 1)
    for item, kind, says in INVALID:
        (found,) = [u for u in unparsed if u["fragment"] == item]
        assert found["reason"].startswith(f"{kind}: entry[0].changes[0].value.messages[")
        assert says in found["reason"]
    assert [u["reason"] for u in unparsed if u["fragment"] == 7] == [
        "malformed: entry[0].changes[0].value.statuses[1]: not an object"
    ]
    journal = await read_all(system.kafka, WEBHOOKS_RAW)
    assert [j["body"] for j in journal] == [hostile["mixed"].decode()]


async def test_sandbox_webhooks_get_through_while_200_slow_clients_hold_ingest(
    system: System,
) -> None:
    port = system.ports["ingest"]
    slow = [slow_headers(port) for _ in range(100)] + [slow_body(port) for _ in range(100)]
    async with holding(slow), aiohttp.ClientSession() as session:
        await asyncio.sleep(1.0)  # let them all connect and start dribbling
        direct = await _post(session, system.url("ingest"), _body([VALID[0]], []))
        sandbox = system.url("sandbox")
        request = {"phone_number_id": PNID, "from": CUSTOMER, "type": "text", "text": "hi"}
        async with session.post(f"{sandbox}/sandbox/customer-messages", json=request) as resp:
            assert resp.status == 200, await resp.text()
            wamid = (await resp.json())["id"]
        inbound = await _eventually(system, INBOUND_MESSAGES, 2)

    assert direct[0] == 200 and direct[1] < 2.0, direct
    assert {m["message_id"] for m in inbound} == {VALID[0]["id"], wamid}
