"""A tiny local Cloud API (template management endpoints, Meta's shapes) and a publisher
(`shared.messaging.EventPublisher`) that keeps what it was given."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiokafka.errors import KafkaConnectionError

from shared.events.envelope import Event
from shared.topics import TopicSpec


@dataclass
class FakePublisher:
    sent: list[tuple[str, Event, str | None]] = field(default_factory=list)
    broker_down: bool = False

    async def publish(
        self,
        spec: TopicSpec,
        event: Event,
        key: str | None,
        headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        if self.broker_down:
            raise KafkaConnectionError("broker down")
        self.sent.append((spec.name, event, key))

    async def publish_many(self, items: Sequence[tuple[TopicSpec, Event, str | None]]) -> None:
        for spec, event, key in items:
            await self.publish(spec, event, key)


@dataclass
class FakeCloudApi:
    """Templates by id; `refuse` makes the next create fail with Meta's error shape."""

    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    refuse: dict[str, Any] | None = None
    down: bool = False
    page_size: int = 2
    next_id: int = 1000

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{version}/{waba_id}/message_templates", self._create)
        app.router.add_get("/{version}/{waba_id}/message_templates", self._list)
        app.router.add_delete("/{version}/{waba_id}/message_templates", self._delete)
        app.router.add_post("/{version}/{template_id}", self._edit)
        app.router.add_post("/{version}/{template_id}/unpause", self._unpause)
        return app

    def _check(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != "Bearer sandbox-token":
            return web.json_response({"error": {"code": 190, "message": "bad token"}}, status=401)
        if self.down:
            return web.json_response({"error": {"code": 2, "message": "down"}}, status=503)
        return None

    async def _create(self, request: web.Request) -> web.Response:
        if (problem := self._check(request)) is not None:
            return problem
        body = await request.json()
        self.requests.append(("create", request.match_info["waba_id"], body))
        if self.refuse is not None:
            refusal, self.refuse = self.refuse, None
            return web.json_response({"error": refusal}, status=400)
        self.next_id += 1
        meta_id = str(self.next_id)
        self.templates[meta_id] = {
            **body,
            "id": meta_id,
            "status": "PENDING",
            "waba_id": request.match_info["waba_id"],
        }
        return web.json_response({"id": meta_id, "status": "PENDING", "category": body["category"]})

    async def _list(self, request: web.Request) -> web.Response:
        if (problem := self._check(request)) is not None:
            return problem
        mine = [t for t in self.templates.values() if t["waba_id"] == request.match_info["waba_id"]]
        start = int(request.query.get("after", "0"))
        page = mine[start : start + self.page_size]
        body: dict[str, Any] = {
            "data": page,
            "paging": {"cursors": {"after": str(start + len(page))}},
        }
        if start + len(page) < len(mine):
            body["paging"]["next"] = "more"
        return web.json_response(body)

    async def _delete(self, request: web.Request) -> web.Response:
        if (problem := self._check(request)) is not None:
            return problem
        name, hsm_id = request.query.get("name"), request.query.get("hsm_id")
        self.requests.append(("delete", name or "", hsm_id))
        for meta_id, t in list(self.templates.items()):
            if t["name"] == name and (hsm_id is None or hsm_id == meta_id):
                del self.templates[meta_id]
        return web.json_response({"success": True})

    async def _unpause(self, request: web.Request) -> web.Response:
        if (problem := self._check(request)) is not None:
            return problem
        self.requests.append(("unpause", request.match_info["template_id"], None))
        return web.json_response({"success": True})

    async def _edit(self, request: web.Request) -> web.Response:
        if (problem := self._check(request)) is not None:
            return problem
        body = await request.json()
        self.requests.append(("edit", request.match_info["template_id"], body))
        self.templates[request.match_info["template_id"]].update(body, status="PENDING")
        return web.json_response({"success": True})


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
