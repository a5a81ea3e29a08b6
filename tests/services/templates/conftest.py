"""The templates service's API on a real PostgreSQL against a local fake Cloud API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from services.templates import web as templates_web
from services.templates.app import MIGRATIONS
from services.templates.cloudapi import TemplateApi
from services.templates.handlers import Registry
from services.templates.metrics import TemplateMetrics
from services.templates.settings import TemplatesCloudApi
from services.templates.store import TemplateStore
from shared import db
from shared.events.template_states import TemplateStateChanged
from shared.metrics import new_registry
from shared.settings import PostgresSettings
from tests.services.templates.builders import body, buttons, header_text, quick, template, url
from tests.services.templates.fakes import FakeCloudApi, FakePublisher, serving
from tests.services.templates.openapi_check import assert_documented

WABA = "102290129340398"
KEY = "test-key-1"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BODY_ROUTES = [
    ("POST", "/v1/templates/validate"),
    ("POST", "/v1/templates"),
    ("POST", "/v1/templates/{waba_id}/{name}/translations"),
    ("PUT", "/v1/templates/{waba_id}/{name}/fallbacks"),
    ("PATCH", "/v1/templates/{waba_id}/{name}/{language}"),
    ("POST", "/v1/templates/{waba_id}/{name}/{language}/preview"),
]
"""Every route that reads a JSON body."""


@dataclass
class Service:
    client: TestClient[Any, Any]
    meta: FakeCloudApi
    published: FakePublisher
    registry: Registry

    async def call(
        self, method: str, path: str, json: Any = None, key: str | None = KEY, **params: str
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with self.client.request(
            method, path.format(**params), json=json, headers=headers
        ) as resp:
            answer = await resp.json()
            assert_documented(method, path, resp.status, answer)
            return resp.status, answer

    def states(self) -> list[TemplateStateChanged]:
        return [e for _, e, _ in self.published.sent if isinstance(e, TemplateStateChanged)]


@asynccontextmanager
async def templates_api(
    database: str, app: web.Application
) -> AsyncIterator[tuple[Registry, FakeCloudApi, FakePublisher]]:
    """The API's routes added to `app`, over `database` and a fake Cloud API."""
    pool = await db.create_pool(PostgresSettings(url=SecretStr(database)))
    await db.migrate(pool, "templates", MIGRATIONS)
    meta = FakeCloudApi()
    published = FakePublisher()
    async with serving(meta.app()) as meta_url, aiohttp.ClientSession() as session:
        registry = Registry(
            TemplateStore(pool),
            TemplateApi(session, TemplatesCloudApi(base_url=meta_url, page_size=2)),
            published,
            lambda: NOW,
            TemplateMetrics(new_registry()),
        )
        templates_web.add_routes(app, registry, [SecretStr("other"), SecretStr(KEY)])
        yield registry, meta, published
    await pool.close()


@pytest.fixture
async def service(fresh_database: str) -> AsyncIterator[Service]:
    app = web.Application()
    async with (
        templates_api(fresh_database, app) as (registry, meta, published),
        TestClient(TestServer(app)) as client,
    ):
        yield Service(client, meta, published, registry)


def shipping(**fields: Any) -> dict[str, Any]:
    return {
        **template(header_text(), body(), buttons(quick(), url())),
        "name": "shipping_update",
        "waba_id": WABA,
        **fields,
    }
