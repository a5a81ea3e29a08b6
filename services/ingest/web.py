"""Ingest's HTTP routes: Meta's verification handshake and the webhook endpoint. Bodies too
large or too slow never reach them: `shared.http.serving` refuses those (413, 408)."""

from __future__ import annotations

from aiohttp import web

from services.ingest.handlers import Reply, WebhookIntake
from shared import webhook_signature
from shared.events.envelope import utcnow

INTAKE = web.AppKey("intake", WebhookIntake)


async def handshake(request: web.Request) -> web.Response:
    q = request.query
    reply = request.app[INTAKE].handshake(
        q.get("hub.mode"), q.get("hub.verify_token"), q.get("hub.challenge")
    )
    return web.Response(status=reply.status, text=reply.text)


async def receive(request: web.Request) -> web.Response:
    received_at = utcnow()
    intake = request.app[INTAKE]
    body = await request.read()
    signature = request.headers.get(webhook_signature.HEADER)
    return _respond(await intake.receive(body, signature, received_at))


def _respond(reply: Reply) -> web.Response:
    return web.Response(status=reply.status, text=reply.text)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/webhook", handshake)
    app.router.add_post("/webhook", receive)
