"""Hostile requests at every route of the sandbox's control API, generated from its route table
and one valid request per route: any JSON, valid requests with hostile values or unknown keys,
raw bodies that are not strict JSON, hostile path and query values. Never a 5xx, every refusal a
JSON body saying why, and a refused request changes nothing: the world, the faults and the
webhooks queued are as they were."""

from __future__ import annotations

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from tests.services.sandbox.conftest import (
    CUSTOMER,
    PNID,
    TOKEN,
    Stack,
    StackFactory,
    approved_template,
    customer_writes,
)
from tests.shared.hostile import (
    HOSTILE_JSON,
    HOSTILE_TEXT,
    RAW_BODIES,
    TRICKY_TEXT,
    mutated,
)

Route = tuple[str, str]
TEMPLATE_ACTIONS = ("review", "pause", "unpause", "disable", "category", "quality", "pacing")
EXAMPLES: dict[Route, dict[str, Any] | None] = {
    ("POST", "/_sandbox/customer-messages"): {
        "phone_number_id": PNID,
        "from": CUSTOMER,
        "text": "Hi",
    },
    ("POST", "/sandbox/customer-messages"): {
        "phone_number_id": PNID,
        "from": CUSTOMER,
        "type": "image",
        "image": {"caption": "a"},
    },
    ("GET", "/_sandbox/violations"): None,
    ("GET", "/_sandbox/media"): None,
    ("GET", "/sandbox/violations"): None,
    ("POST", "/_sandbox/customer-reads"): {"wamid": "wamid.SBX0"},
    ("POST", "/_sandbox/user-preferences"): {
        "phone_number_id": PNID,
        "wa_id": CUSTOMER,
        "value": "stop",
    },
    ("POST", "/_sandbox/customers"): {"phone": "16505550000", "name": "Ana", "username": "ana"},
    ("POST", "/_sandbox/calls"): {"phone_number_id": PNID, "from": CUSTOMER, "answered": False},
    ("POST", "/_sandbox/echoes"): {"phone_number_id": PNID, "to": CUSTOMER, "text": "On my way"},
    ("POST", "/_sandbox/threads"): {
        "phone_number_id": PNID,
        "wa_id": CUSTOMER,
        "action": "take",
        "metadata": "faq",
    },
    ("GET", "/_sandbox/customers"): None,
    ("GET", "/_sandbox/customers/{identifier}"): None,
    ("POST", "/_sandbox/number-changes"): {
        "from": CUSTOMER,
        "to": "16505550001",
        "phone_number_ids": [PNID],
    },
    ("POST", "/_sandbox/portfolios"): {
        "portfolio_id": "200000000000002",
        "phone_number_ids": [PNID],
        "linked": True,
    },
    ("GET", "/_sandbox/messages"): None,
    ("POST", "/_sandbox/throughput"): {"phone_number_id": PNID, "mps": 5},
    ("POST", "/_sandbox/reachability"): {"wa_id": CUSTOMER, "reachable": False},
    ("GET", "/_sandbox/faults"): None,
    ("PUT", "/_sandbox/faults"): {"drop_rate": 0.0, "seed": 3},
    ("POST", "/_sandbox/reset"): {"seed": 1},
    ("GET", "/_sandbox/webhooks"): None,
    ("GET", "/_sandbox/templates"): None,
    **{("POST", f"/_sandbox/templates/{{template_id}}/{a}"): {} for a in TEMPLATE_ACTIONS},
    ("POST", "/_sandbox/templates/{template_id}/category"): {"category": "MARKETING"},
    ("POST", "/_sandbox/templates/{template_id}/quality"): {"score": "YELLOW"},
    ("POST", "/_sandbox/templates/{template_id}/pacing"): {"paced": True},
    ("POST", "/_sandbox/accounts/limit"): {"tier": "TIER_2K"},
    ("POST", "/_sandbox/accounts/throughput-upgrade"): {"phone_number_id": PNID},
    ("POST", "/_sandbox/accounts/restrictions"): {"restrictions": []},
    ("POST", "/_sandbox/sender-codes"): {"codes": [131048]},
}
BODY_ROUTES = [route for route, example in EXAMPLES.items() if example is not None]
OPTIONAL_BODY = {("POST", "/_sandbox/reset")} | {
    ("POST", f"/_sandbox/templates/{{template_id}}/{a}") for a in TEMPLATE_ACTIONS
}
"""Routes where an empty body is no body: the request as it stands without one."""
QUERY_NAMES = ["code", "phone_number_id", "seed"]
LINE_LIMIT = 8190


@dataclass
class CountingOutbox:
    """The sandbox's outbox, counting what is queued before passing it on."""

    inner: Any
    queued: int = 0
    kinds: list[str] = field(default_factory=list)

    def enqueue(self, payload: dict[str, Any]) -> None:
        self.queued += 1
        self.inner.enqueue(payload)


def _control_routes(stack: Stack) -> set[Route]:
    found = set()
    for route in stack.client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith(("/_sandbox", "/sandbox")) and route.method != "HEAD":
            found.add((route.method, path))
    return found


async def _stack(make_stack: StackFactory) -> tuple[Stack, CountingOutbox, dict[str, str]]:
    stack = await make_stack()
    outbox = CountingOutbox(stack.sandbox.outbox)
    stack.sandbox.outbox = outbox
    await customer_writes(stack)
    template_id = await approved_template(stack, "order_update", "Your order {{1}} is ready.")
    return stack, outbox, {"identifier": CUSTOMER, "template_id": template_id}


def _snapshot(stack: Stack, outbox: CountingOutbox) -> tuple[Any, ...]:
    sandbox = stack.sandbox
    return (repr(sandbox.world), sandbox.board.faults, sandbox.board.seed, outbox.queued)


def _url(path: str, params: dict[str, str], query: dict[str, str]) -> URL:
    values = {k: quote(v.encode("utf-8", "surrogatepass"), safe="") for k, v in params.items()}
    encoded = "&".join(
        f"{k}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in query.items()
    )
    return URL(path.format(**values) + (f"?{encoded}" if encoded else ""), encoded=True)


async def _request(stack: Stack, method: str, url: URL, body: bytes | None) -> tuple[int, Any]:
    """Status and JSON answer; aiohttp refuses a request line past 8190 bytes itself, in plain
    text, before any route runs ({"error": ...} stands in for its answer)."""
    headers = {"Content-Type": "application/json"}
    async with stack.client.request(method, url, data=body, headers=headers) as resp:
        if resp.content_type != "application/json" and len(str(url)) > LINE_LIMIT:
            assert resp.status == 400
            return resp.status, {"error": await resp.text()}
        assert resp.content_type == "application/json", (resp.status, await resp.text())
        return resp.status, await resp.json()


def _refusal_says_why(answer: Any) -> bool:
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):  # Meta's shape, where the sandbox speaks as Meta
        return bool(error.get("message"))
    return isinstance(error, str) and bool(error)


@st.composite
def requests(draw: st.DrawFn, valid: dict[str, str]) -> tuple[str, str, dict[str, str], Any]:
    method, path = draw(st.sampled_from(sorted(EXAMPLES)))
    names = [n.strip("{}") for n in path.split("/") if n.startswith("{")]
    params = {
        n: draw(st.just(valid[n]) | HOSTILE_TEXT.filter(lambda s: s not in ("", ".", "..")))
        for n in names
    }
    query = draw(st.dictionaries(st.sampled_from(QUERY_NAMES), HOSTILE_TEXT, max_size=2))
    example = EXAMPLES[(method, path)]
    body = None
    if example is not None:
        body = draw(
            st.sampled_from(list(RAW_BODIES.values()))
            | HOSTILE_JSON.map(lambda v: json.dumps(v).encode())
            | mutated(example).map(lambda v: json.dumps(v).encode())
        )
    return method, _url(path, params, query), params, body


async def test_every_control_route_has_an_example(make_stack: StackFactory) -> None:
    stack = await make_stack()
    assert _control_routes(stack) == set(EXAMPLES)


async def test_generated_hostile_requests_never_fail_the_sandbox_or_half_change_it(
    make_stack: StackFactory,
) -> None:
    stack, outbox, valid = await _stack(make_stack)
    loop = asyncio.get_running_loop()
    seen: set[int] = set()

    async def one(method: str, url: URL, body: bytes | None) -> None:
        await stack.settle()
        before = _snapshot(stack, outbox)
        status, answer = await _request(stack, method, url, body)
        assert status < 500, (method, url, body, answer)
        seen.add(status)
        if status >= 400:
            assert _refusal_says_why(answer), answer
            await stack.settle()
            assert _snapshot(stack, outbox) == before, (method, url, body, answer)

    @settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
    @given(requests(valid))
    def probe(request: tuple[str, URL, dict[str, str], bytes | None]) -> None:
        method, url, _, body = request
        asyncio.run_coroutine_threadsafe(one(method, url, body), loop).result(timeout=30)

    with ThreadPoolExecutor(1) as pool:
        await loop.run_in_executor(pool, probe)
    assert {200, 400, 404} <= seen


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_every_raw_hostile_body_is_a_400_that_changes_nothing(
    make_stack: StackFactory, method: str, path: str
) -> None:
    stack, outbox, valid = await _stack(make_stack)
    await stack.settle()
    before = _snapshot(stack, outbox)
    for name, raw in RAW_BODIES.items():
        if name == "empty" and (method, path) in OPTIONAL_BODY:
            continue
        status, answer = await _request(stack, method, _url(path, valid, {}), raw)
        assert status == 400 and _refusal_says_why(answer), (name, answer)
    await stack.settle()
    assert _snapshot(stack, outbox) == before


async def test_an_oversized_body_is_a_413_that_says_why(make_stack: StackFactory) -> None:
    stack, outbox, _ = await _stack(make_stack)
    before = _snapshot(stack, outbox)
    huge = json.dumps({"phone_number_id": PNID, "from": CUSTOMER, "text": "x" * 1024**2})
    async with stack.client.post(
        "/_sandbox/customer-messages", data=io.BytesIO(huge.encode())
    ) as resp:
        answer = await resp.json()
    assert resp.status == 413 and "larger than" in answer["error"], answer
    assert _snapshot(stack, outbox) == before


@pytest.mark.parametrize("text", [t for t in TRICKY_TEXT if any(c < " " for c in t)])
async def test_a_control_character_in_a_path_or_query_value_is_a_400(
    make_stack: StackFactory, text: str
) -> None:
    stack, outbox, valid = await _stack(make_stack)
    await stack.settle()
    before = _snapshot(stack, outbox)
    for method, path in EXAMPLES:
        body = b"{}" if EXAMPLES[(method, path)] is not None else None
        names = [n.strip("{}") for n in path.split("/") if n.startswith("{")]
        for name in names:
            status, answer = await _request(
                stack, method, _url(path, {**valid, name: text}, {}), body
            )
            assert status == 400 and "control character" in answer["error"], (path, answer)
        status, answer = await _request(stack, method, _url(path, valid, {"code": text}), body)
        assert status == 400 and "control character" in answer["error"], (path, answer)
    assert _snapshot(stack, outbox) == before


@pytest.mark.parametrize(
    "message",
    [
        {"type": "image"},
        {"type": "no-such-type"},
        {"type": "contacts", "contacts": []},
        {"type": "interactive", "interactive": {"type": "list_reply"}},
        {"timestamp": "yesterday"},
        {"timestamp": 10**20},
        {"type": "button", "button": {}},
    ],
)
async def test_a_message_no_customer_could_send_adds_no_customer(
    make_stack: StackFactory, message: dict[str, Any]
) -> None:
    stack, outbox, _ = await _stack(make_stack)
    await stack.settle()
    before = _snapshot(stack, outbox)
    request = {"phone_number_id": PNID, "from": "16505550123", "text": "Hi", **message}
    status, answer = await stack.call("POST", "/_sandbox/customer-messages", request)
    assert status == 400 and answer["error"], answer
    assert _snapshot(stack, outbox) == before
    status, _ = await stack.call("GET", "/_sandbox/customers/16505550123")
    assert status == 404


async def test_a_refused_message_draws_no_id(make_stack: StackFactory) -> None:
    refused_first, alone = await make_stack(seed=7), await make_stack(seed=7)
    bad = {"phone_number_id": PNID, "from": CUSTOMER, "type": "image"}
    assert (await refused_first.call("POST", "/_sandbox/customer-messages", bad))[0] == 400
    assert await customer_writes(refused_first) == await customer_writes(alone)


async def test_a_method_a_route_does_not_take_is_a_405_that_says_why(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    status, answer = await stack.call("DELETE", "/_sandbox/customers")
    assert status == 405 and answer["error"] == "Method Not Allowed"
    status, answer = await stack.call("GET", "/_sandbox/no-such-thing")
    assert status == 404 and answer["error"] == "Not Found"


@pytest.mark.parametrize(
    ("raw", "status"),
    [(b'{"to": 1, "n": NaN}', 400), (b"[1]", 400), (b'{"a": "' + b"x" * 1024**2 + b'"}', 413)],
)
async def test_the_cloud_api_side_reads_bodies_as_strictly_and_answers_as_meta(
    make_stack: StackFactory, raw: bytes, status: int
) -> None:
    stack = await make_stack()
    async with stack.client.post(
        f"/v24.0/{PNID}/messages", data=io.BytesIO(raw), headers=TOKEN
    ) as resp:
        answer = await resp.json()
    assert resp.status == status and answer["error"]["code"] == 100, answer
