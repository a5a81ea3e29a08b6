"""A sandbox served over real HTTP, posting its signed webhooks to a recording receiver, and the
requests the HTTP tests share."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from services.sandbox.app import build_app
from services.sandbox.faults import FaultBoard
from services.sandbox.handlers import Sandbox
from services.sandbox.ids import Ids
from services.sandbox.metrics import SandboxMetrics
from services.sandbox.settings import SandboxSettings
from services.sandbox.webhook_sender import WebhookSender
from services.sandbox.world import World
from shared import http, webhook_signature
from shared.events.envelope import utcnow
from shared.metrics import new_registry

SECRET = "sandbox-app-secret"
TOKEN = {"Authorization": "Bearer sandbox-token"}
PNID = "106540352242922"
WABA = "100000000000001"
CUSTOMER = "16505551234"
OTHER = "16505559876"
TEMPLATES = f"/v24.0/{WABA}/message_templates"


@dataclass
class Receiver:
    """Ingest's stand-in: records every webhook and whether its signature holds."""

    bodies: list[bytes] = field(default_factory=list)
    signed: list[bool] = field(default_factory=list)
    refuse_next: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        valid = webhook_signature.verify(
            body, request.headers.get(webhook_signature.HEADER), [SECRET]
        )
        self.bodies.append(body)
        self.signed.append(valid)
        if not valid:
            return web.Response(status=401)
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return web.Response(status=503)
        return web.Response(text="ok")

    def payloads(self, signed_only: bool = True) -> list[dict[str, Any]]:
        return [
            json.loads(b)
            for b, ok in zip(self.bodies, self.signed, strict=True)
            if ok or not signed_only
        ]

    def statuses(self) -> list[dict[str, Any]]:
        return [
            item
            for p in self.payloads()
            for e in p["entry"]
            for c in e["changes"]
            for item in c["value"].get("statuses", [])
        ]

    def changes(self, field_name: str) -> list[dict[str, Any]]:
        return [
            c["value"]
            for p in self.payloads()
            for e in p["entry"]
            for c in e["changes"]
            if c["field"] == field_name
        ]


@dataclass
class Stack:
    client: TestClient[web.Request, web.Application]
    receiver: Receiver
    sandbox: Sandbox
    sender: WebhookSender

    async def settle(self) -> None:
        """Wait for every status lifecycle, review and webhook to be done."""
        await self.sandbox.tasks.idle()
        await asyncio.wait_for(self.sender.drained(), timeout=10)

    async def call(
        self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True
    ) -> tuple[int, Any]:
        headers = TOKEN if auth else {}
        async with self.client.request(method, path, json=body, headers=headers) as resp:
            return resp.status, await resp.json()

    async def send(self, payload: dict[str, Any], version: str = "v24.0") -> tuple[int, Any]:
        return await self.call("POST", f"/{version}/{PNID}/messages", payload)


StackFactory = Callable[..., Awaitable[Stack]]


@pytest.fixture
async def make_stack() -> AsyncIterator[StackFactory]:
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def make(**overrides: Any) -> Stack:
        receiver = Receiver()
        hook_app = web.Application()
        hook_app.router.add_post("/webhook", receiver.handle)
        hook_server = TestServer(hook_app)
        await hook_server.start_server()
        cleanups.append(hook_server.close)
        defaults: dict[str, Any] = {
            "status_delay_s": 0,
            "review_delay_s": 0,
            "webhook_retry_max_s": 0.2,
            "pause_durations_s": [],  # paused templates stay paused unless a test says otherwise
        }
        settings = SandboxSettings(**{**defaults, **overrides})
        session = aiohttp.ClientSession()
        cleanups.append(session.close)
        board = FaultBoard(settings.faults, settings.seed)
        registry = new_registry()
        metrics = SandboxMetrics.create(registry)
        url = str(hook_server.make_url("/webhook"))
        sender = WebhookSender(session, url, SECRET, 0.2, board, metrics)
        sandbox = Sandbox(
            settings, World(), sender, utcnow, Ids(settings.seed), board=board, metrics=metrics
        )
        task = asyncio.create_task(sender.run())

        async def stop_sender() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

        cleanups.append(stop_sender)
        cleanups.append(sandbox.close)
        client = TestClient(
            TestServer(build_app(sandbox, sender, http.Readiness({"http": True}), registry))
        )
        await client.start_server()
        cleanups.append(client.close)
        return Stack(client, receiver, sandbox, sender)

    yield make
    for cleanup in reversed(cleanups):
        await cleanup()


def text_message(to: str = CUSTOMER, body: str = "Yes, it comes in blue.") -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "to": to, "type": "text", "text": {"body": body}}


def template_send(name: str, *components: dict[str, Any], to: str = CUSTOMER) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {"name": name, "language": {"code": "en_US"}, "components": list(components)},
        "biz_opaque_callback_data": "intent-1",
    }


def new_template(name: str, body: str, category: str = "UTILITY") -> dict[str, Any]:
    component: dict[str, Any] = {"type": "BODY", "text": body}
    if "{{" in body:
        component["example"] = {"body_text": [["860198"]]}
    return {"name": name, "language": "en_US", "category": category, "components": [component]}


async def customer_writes(stack: Stack, **request: Any) -> str:
    """A customer message (a text from CUSTOMER unless `request` says otherwise); its wamid."""
    body = {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hi", **request}
    status, reply = await stack.call("POST", "/_sandbox/customer-messages", body)
    assert status == 200, reply
    return str(reply["id"])


async def open_window(stack: Stack) -> None:
    """The customer writes; the receiver then forgets that webhook."""
    body = {"phone_number_id": PNID, "from": CUSTOMER, "text": "Hello"}
    assert (await stack.call("POST", "/_sandbox/customer-messages", body))[0] == 200
    await stack.settle()
    stack.receiver.bodies.clear()
    stack.receiver.signed.clear()


async def approved_template(stack: Stack, name: str, body: str, category: str = "UTILITY") -> str:
    """A template created and reviewed (approved unless its content says otherwise); its id."""
    status, created = await stack.call("POST", TEMPLATES, new_template(name, body, category))
    assert status == 200, created
    await stack.settle()
    return str(created["id"])


async def violations_of(stack: Stack, query: str = "") -> list[dict[str, Any]]:
    status, body = await stack.call("GET", f"/_sandbox/violations{query}")
    assert status == 200
    assert body["count"] == len(body["violations"])
    return list(body["violations"])


async def set_faults(stack: Stack, **faults: Any) -> dict[str, Any]:
    status, body = await stack.call("PUT", "/_sandbox/faults", faults)
    assert status == 200, body
    return dict(body)
