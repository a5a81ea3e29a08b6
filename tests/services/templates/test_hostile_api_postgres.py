"""Hostile requests at every operation of the templates API, generated from its OpenAPI
document: hostile path and query values (NUL, CR/LF, surrogates, oversized), bodies of any JSON,
valid templates with hostile values or unknown keys, raw bodies that are not strict JSON.
Never a 5xx, every answer one the document describes, never a hostile value in a response
header, and a refused request changes nothing: no row, no event, no Cloud API call."""

from __future__ import annotations

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from services.templates.openapi import DOCUMENT
from shared.strict_json import MAX_DEPTH
from tests.services.templates.builders import body
from tests.services.templates.conftest import BODY_ROUTES, KEY, WABA, Service, shipping
from tests.services.templates.openapi_check import assert_documented
from tests.shared.hostile import (
    HOSTILE_JSON,
    HOSTILE_TEXT,
    INJECTED,
    RAW_BODIES,
    TRICKY_TEXT,
    mutated,
    nested,
)

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(600)]
OPERATIONS = sorted(
    (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
)
V1 = [(m, p) for m, p in OPERATIONS if p.startswith("/v1/")]
VALID = {"waba_id": WABA, "name": "shipping_update", "language": "en_US"}
SEGMENT = HOSTILE_TEXT.filter(lambda s: s not in ("", ".", ".."))
QUERY_NAMES = ["waba_id", "name", "language", "category", "status", "limit", "offset"]
Snapshot = tuple[list[tuple[Any, ...]], ...]
LINE_LIMIT = 8190  # aiohttp's request-line limit
CONTROL_TEXT = [t for t in TRICKY_TEXT if any(c < " " or c == "\x7f" for c in t)]


def _url(base: str, path: str, params: dict[str, str], query: dict[str, str]) -> URL:
    """The request URL with each path value percent-encoded as UTF-8 (surrogates too)."""
    segments = {k: quote(v.encode("utf-8", "surrogatepass"), safe="") for k, v in params.items()}
    encoded = "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in query.items()
    )
    return URL(base + path.format(**segments) + (f"?{encoded}" if encoded else ""), encoded=True)


async def _send(
    base: str, method: str, url: URL, body: bytes | None
) -> tuple[int, Any, dict[str, str]]:
    """Status, JSON answer (None for aiohttp's own plain refusal of a request line or header
    past its 8190-byte limit, before any route runs) and headers."""
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=body, headers=headers) as resp,
    ):
        if resp.content_type != "application/json":
            assert resp.status == 400 and len(str(url)) > LINE_LIMIT, (resp.status, _short(url))
            return resp.status, None, dict(resp.headers)
        return resp.status, await resp.json(), dict(resp.headers)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 300 else f"{text[:300]}... ({len(text)} characters)"


async def _snapshot(database: str) -> Snapshot:
    conn = await asyncpg.connect(database)
    try:
        tables = []
        for table in ("templates", "template_history", "template_fallbacks"):
            rows = await conn.fetch(f"SELECT * FROM {table} ORDER BY 1, 2")
            tables.append([tuple(r.values()) for r in rows])
        return tuple(tables)
    finally:
        await conn.close()


def _bodies(path: str) -> st.SearchStrategy[bytes]:
    valid = shipping() if path == "/v1/templates" else {"parameters": {}, "languages": ["en_US"]}
    return st.one_of(
        st.sampled_from(list(RAW_BODIES.values())),
        HOSTILE_JSON.map(lambda v: json.dumps(v).encode()),
        mutated(valid).map(lambda v: json.dumps(v).encode()),
    )


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], dict[str, str], bytes | None]:
    method, path = draw(st.sampled_from(V1))
    names = [n.strip("{}") for n in path.split("/") if n.startswith("{")]
    params = {n: draw(SEGMENT | st.just(VALID.get(n, WABA))) for n in names}
    query = draw(st.dictionaries(st.sampled_from(QUERY_NAMES), HOSTILE_TEXT, max_size=3))
    reads_body = "requestBody" in DOCUMENT["paths"][path][method.lower()]
    body = draw(_bodies(path)) if reads_body else None
    return method, path, params, query, body


def test_the_document_names_every_operation_the_probe_covers() -> None:
    assert set(BODY_ROUTES) <= set(V1) and ("POST", "/v1/sync/{waba_id}") in V1
    assert len(V1) == 13


async def test_generated_hostile_requests_change_nothing_and_get_a_documented_4xx(
    service: Service, fresh_database: str
) -> None:
    await service.call("POST", "/v1/templates", shipping())
    base = str(service.client.make_url("")).rstrip("/")
    seen: set[int] = set()
    before = [await _snapshot(fresh_database)]
    meta_calls = [len(service.meta.requests)]

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requests())
    def probe(request: tuple[str, str, dict[str, str], dict[str, str], bytes | None]) -> None:
        method, path, params, query, body = request
        url = _url(base, path, params, query)
        published = len(service.published.sent)
        status, answer, headers = asyncio.run(_send(base, method, url, body))
        where = _short((method, url, body, answer))
        assert status < 500, where
        if answer is not None:
            assert_documented(method, path, status, answer)
        assert not any(INJECTED.lower() == h.lower() for h in headers), headers
        seen.add(status)
        after = asyncio.run(_snapshot(fresh_database))
        if 400 <= status < 500:
            assert after == before[0], where
            assert len(service.published.sent) == published
            assert len(service.meta.requests) == meta_calls[0]
        before[0], meta_calls[0] = after, len(service.meta.requests)

    with ThreadPoolExecutor(1) as pool:
        await asyncio.get_running_loop().run_in_executor(pool, probe)
    assert {400, 404} <= seen


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_every_raw_hostile_body_is_a_400_that_says_why(
    service: Service, fresh_database: str, method: str, path: str
) -> None:
    await service.call("POST", "/v1/templates", shipping())
    before, published = await _snapshot(fresh_database), len(service.published.sent)
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    for name, raw in RAW_BODIES.items():
        url = path.format(**VALID)
        async with service.client.request(method, url, data=raw, headers=headers) as resp:
            answer = await resp.json()
        assert resp.status == 400, (name, answer)
        assert answer["error"]["code"] == "INVALID_JSON", (name, answer)
        assert answer["error"]["message"], name
        assert_documented(method, path, 400, answer)
    assert await _snapshot(fresh_database) == before
    assert len(service.published.sent) == published


@pytest.mark.parametrize(
    ("body", "why"),
    [
        pytest.param(
            {**shipping(), "components": nested(MAX_DEPTH - 1)},  # its leaf 32 levels down
            "",
            id="as-deep-as-allowed",
        ),
        pytest.param(
            {**shipping(), "components": [nested(MAX_DEPTH - 1)]},
            f"nests deeper than {MAX_DEPTH} levels",
            id="one-level-deeper",
        ),
        pytest.param(
            shipping(components=[body("Hello {{1}}, your \x00 order {{2}} has shipped.")]),
            "$.components[0].text holds a NUL or an unpaired surrogate",
            id="nul",
        ),
        pytest.param(
            {**shipping(), "name": "ship\ud800"},
            "$.name holds a NUL or an unpaired surrogate",
            id="surrogate",
        ),
    ],
)
async def test_what_the_reader_refuses_is_named(service: Service, body: Any, why: str) -> None:
    status, answer = await service.call("POST", "/v1/templates/validate", body)
    if why:
        assert status == 400 and why in answer["error"]["message"], answer
    else:
        assert status == 200, answer


async def test_an_oversized_body_is_a_413_problem(service: Service, fresh_database: str) -> None:
    before = await _snapshot(fresh_database)
    huge = io.BytesIO(json.dumps({**shipping(), "pad": "x" * (1024**2 + 1)}).encode())
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    async with service.client.post("/v1/templates", data=huge, headers=headers) as resp:
        answer = await resp.json()
    assert resp.status == 413 and answer["error"]["code"] == "TOO_LARGE", answer
    assert_documented("POST", "/v1/templates", 413, answer)
    assert await _snapshot(fresh_database) == before


@pytest.mark.parametrize(("method", "path"), V1)
async def test_a_control_character_in_a_path_or_query_value_is_a_400(
    service: Service, fresh_database: str, method: str, path: str
) -> None:
    base = str(service.client.make_url("")).rstrip("/")
    names = [n.strip("{}") for n in path.split("/") if n.startswith("{")]
    before = await _snapshot(fresh_database)
    for text in CONTROL_TEXT:
        for name in names:
            url = _url(base, path, {**VALID, name: text}, {})
            status, answer, _ = await _send(base, method, url, b"{}")
            assert status == 400 and answer["error"]["code"] == "INVALID_PATH", (url, answer)
            assert_documented(method, path, status, answer)
        url = _url(base, path, VALID, {"name": text})
        status, answer, _ = await _send(base, method, url, b"{}")
        assert status == 400 and answer["error"]["code"] == "INVALID_QUERY", (url, answer)
    assert await _snapshot(fresh_database) == before


@pytest.mark.parametrize("waba_id", ["1/2", "..", "1%2F..%2Fme", "١٢٣", "me"])
async def test_a_waba_id_that_is_not_digits_never_reaches_the_cloud_api(
    service: Service, waba_id: str
) -> None:
    base = str(service.client.make_url("")).rstrip("/")
    for method, path in V1:
        if "{waba_id}" in path:
            url = _url(base, path, {**VALID, "waba_id": waba_id}, {})
            status, answer, _ = await _send(base, method, url, b"{}")
            assert status in (400, 404), (method, url, answer)
    status, answer = await service.call("POST", "/v1/templates", shipping(waba_id=waba_id))
    assert status == 400 and answer["error"]["code"] == "WABA_ID_REQUIRED"
    assert service.meta.requests == []


@pytest.mark.parametrize(
    "header",
    [b"Authorization: Bearer " + KEY.encode() + b"\x00", b"X-Name: a\rb", b"X-Name: a\x00b"],
)
async def test_a_header_with_a_control_character_is_refused_before_the_api(
    service: Service, fresh_database: str, header: bytes
) -> None:
    before = await _snapshot(fresh_database)
    body = json.dumps(shipping(name="smuggled")).encode()
    request = (
        b"POST /v1/templates HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n"
        b"Authorization: Bearer " + KEY.encode() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    url = service.client.make_url("")
    reader, writer = await asyncio.open_connection(url.host, url.port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.") and b" 400 " in status_line, answer[:200]
    assert await _snapshot(fresh_database) == before


@pytest.mark.parametrize("query", ["offset=9223372036854775808", "offset=1000000001", "limit=x"])
async def test_a_page_past_what_postgresql_counts_is_a_400(service: Service, query: str) -> None:
    status, answer = await service.call("GET", f"/v1/templates?{query}")
    assert status == 400 and answer["error"]["code"] == "INVALID_QUERY", answer


async def test_unknown_keys_are_not_kept(service: Service, fresh_database: str) -> None:
    status, created = await service.call(
        "POST", "/v1/templates", {**shipping(), "owner": "mallory", INJECTED: "1"}
    )
    assert status == 201 and "owner" not in created and INJECTED not in created
    assert "mallory" not in repr(await _snapshot(fresh_database))


async def test_a_method_or_path_no_route_takes_is_a_problem(service: Service) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    async with service.client.put("/v1/templates", headers=headers) as resp:
        answer = await resp.json()
    assert resp.status == 405 and answer["error"]["code"] == "METHOD_NOT_ALLOWED"
    assert "GET" in resp.headers["Allow"]
    async with service.client.get("/v1/no-such-thing", headers=headers) as resp:
        assert resp.status == 404 and (await resp.json())["error"]["code"] == "NOT_FOUND"


async def test_any_listed_api_key_is_accepted_so_keys_rotate(service: Service) -> None:
    for key in ("other", KEY):  # the fixture's list: an old key and a new one
        assert (await service.call("GET", "/v1/templates", key=key))[0] == 200
