"""The console's pages over a real read model: every page behind a token, each intent's
timeline with its reasons in words, the customer's window and consent, viewers' masking,
and CSRF on every action."""

from __future__ import annotations

import re

import pytest
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer

from services.console import pages
from services.console.handlers import SandboxCustomer
from tests.services.console import facts
from tests.services.console.conftest import OPERATOR, VIEWER, Console, console_on

pytestmark = pytest.mark.postgres

PAGES = ["/", "/search?q=late-1", "/intents/late-1", "/customers/1", "/templates",
         "/numbers", "/deadletters", "/intents/late-1/live"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_is_refused_without_a_token(console: Console, path: str) -> None:
    status, text = await console.get(path, token=None)
    assert status == 401
    assert "WINDOW_CLOSED" not in text and facts.STRANGER not in text


async def test_a_wrong_token_is_refused_and_a_browser_gets_the_sign_in_form(
    console: Console,
) -> None:
    status, text = await console.get("/intents/late-1", token="not-a-token-at-all-000")
    assert status == 401
    status, text = await console.get("/intents/late-1", token=None, headers={"Accept": "text/html"})
    assert status == 401 and 'name="token"' in text and "WINDOW_CLOSED" not in text


async def test_health_and_metrics_need_no_token(console: Console) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        status, _ = await console.get(path, token=None)
        assert status == 200


async def test_the_rejected_intent_shows_its_reason_in_words(console: Console) -> None:
    status, text = await console.get("/intents/late-1")
    assert status == 200
    assert 'id="final-state" class="state state-rejected">rejected' in text
    assert "WINDOW_CLOSED</code> The customer service window was closed" in text
    assert "Meta error <code>131047</code>" in text
    assert 'id="window-seen">closed: the customer never wrote' in text


async def test_the_delivered_reply_shows_each_step_with_pricing(console: Console) -> None:
    status, text = await console.get("/intents/reply-1")
    assert status == 200
    assert 'id="final-state" class="state state-delivered">delivered' in text
    steps = re.findall(r'<strong class="title">([^<]+)</strong>', text)
    assert steps == [
        "Submitted by the business",
        "Policy approved it",
        "Accepted by the Cloud API, which gave it a wamid.",
        "Sent: Meta reports it left for the customer&#39;s phone.",
        "Delivered to the customer&#39;s phone.",
    ]
    assert "<code>category=service</code>" in text and 'id="pricing">free_service' in text
    assert "marketing: opted in" in text and "crm:signup-form" in text
    assert "template-link" not in text  # a text message names no template


async def test_a_one_time_code_and_sealed_values_never_show(console: Console) -> None:
    for path in ("/intents/otp-1", "/intents/dead-1", "/deadletters/wagate.deadletter.v1/0/7"):
        status, text = await console.get(path)
        assert status == 200, path
        assert facts.OTP not in text and "sealed-token" not in text, path
        assert "[redacted]" in text or path == "/intents/dead-1", path


async def test_search_finds_intents_by_every_identifier(console: Console) -> None:
    for query, expected in [
        ("16505551234", {"reply-1", "otp-1"}),
        ("+1 (650) 555-1234", {"reply-1", "otp-1"}),
        ("A-1042", {"reply-1"}),
        (facts.NUMBER, {"reply-1", "otp-1", "late-1"}),
    ]:
        status, text = await console.get(f"/search?q={query}")
        assert status == 200
        found = set(re.findall(r'<a href="/intents/([^"]+)">', text))
        assert found == expected, query
    status, _ = await console.get("/search?q=late-1")
    assert status == 303  # one intent by its id: straight to its timeline


async def test_the_customer_page_shows_window_consent_and_intents(console: Console) -> None:
    customer_id = await console.queries.customer_id(facts.CUSTOMER)
    status, text = await console.get(f"/customers/{customer_id}")
    assert status == 200
    assert "open</span> open until 2026-11-26T09:00:00+00:00" in text
    assert "a text message from the customer" in text
    assert "opted in" in text and "crm:signup-form" in text and "Maria" in text
    assert "/intents/reply-1" in text and "/intents/late-1" not in text


async def test_a_viewer_sees_no_phone_number_in_clear(console: Console) -> None:
    customer_id = await console.queries.customer_id(facts.CUSTOMER)
    for path in (f"/customers/{customer_id}", "/intents/reply-1", "/search?q=16505551234",
                 "/deadletters/wagate.deadletter.v1/0/7"):  # fmt: skip
        status, text = await console.get(path, token=VIEWER)
        assert status == 200, path
        assert facts.CUSTOMER not in text and "650-555-1234" not in text, path
        assert "16***34" in text, path
    _, text = await console.get("/intents/reply-1", token=OPERATOR)
    assert facts.CUSTOMER in text


async def test_a_viewer_may_not_redrive_and_every_action_needs_the_csrf_token(
    console: Console,
) -> None:
    path = "/deadletters/wagate.deadletter.v1/0/7/redrive"
    auth = {"Authorization": f"Bearer {VIEWER}"}
    _, page = await console.get("/deadletters/wagate.deadletter.v1/0/7", token=VIEWER)
    assert 'id="redrive"' not in page
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page)
    token = csrf.group(1) if csrf else ""
    async with console.client.post(path, data={"csrf": token}, headers=auth) as resp:
        assert resp.status == 403  # the viewer's own CSRF token, but not the role
        assert "may not redrive" in await resp.text()
    auth = {"Authorization": f"Bearer {OPERATOR}"}
    async with console.client.post(path, data={}, headers=auth) as resp:
        assert resp.status == 403 and "CSRF" in await resp.text()
    async with console.client.post(path, data={"csrf": token}, headers=auth) as resp:
        assert resp.status == 403  # another principal's token


async def test_templates_and_numbers_pages(console: Console) -> None:
    _, text = await console.get("/templates")
    assert "shipping_update" in text and "APPROVED" in text and "GREEN" in text
    _, text = await console.get(f"/templates/{facts.WABA}/shipping_update/en_US")
    assert text.count("<td>UTILITY</td>") == 2 and "PENDING" in text
    _, text = await console.get("/numbers")
    assert facts.NUMBER in text and "TIER_2K" in text and "15550001111" in text


async def test_the_live_view_sends_the_timeline_again_when_it_changes(console: Console) -> None:
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    async with console.client.get("/intents/late-1/live", headers=headers) as resp:
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        first = await _event(resp)
        assert "state-rejected" in first
        await console.store.write(
            facts.batch_of([facts.updated(facts.reply("late-1"), "failed", 99)])
        )
        second = await _event(resp)
        assert "Failed: Meta could not deliver it." in second


async def _event(resp: object) -> str:
    lines: list[str] = []
    async for raw in resp.content:  # type: ignore[attr-defined]
        line = raw.decode().rstrip("\n")
        if line.startswith("data: "):
            lines.append(line[6:])
        elif line == "" and lines:
            return "\n".join(lines)
    raise AssertionError("the stream ended")


async def test_the_chat_writes_as_the_customer_and_shows_both_sides(pool: object) -> None:
    """The sandbox's control API is a local stand-in here that records what it is given."""
    written: list[dict[str, str]] = []

    async def customer_message(request: web.Request) -> web.Response:
        written.append(await request.json())
        return web.json_response({"id": "wamid.SBX1"})

    sandbox_app = web.Application()
    sandbox_app.router.add_post("/_sandbox/customer-messages", customer_message)
    sandbox = TestServer(sandbox_app)
    await sandbox.start_server()
    console, _ = await console_on(pool)  # type: ignore[arg-type]
    try:
        await console.store.write(facts.batch_of(facts.story()))
        async with ClientSession() as session:
            app_console = console.client.app[pages.CONSOLE]  # type: ignore[index]
            app_console.sandbox = SandboxCustomer(session, str(sandbox.make_url("/")))
            customer_id = await console.queries.customer_id(facts.CUSTOMER)
            path = f"/customers/{customer_id}/chat/{facts.NUMBER}"
            status, page = await console.get(path)
            assert status == 200
            assert "Is my order shipped?" in page and "Yes, it left this morning." in page
            csrf = re.search(r'name="csrf" value="([^"]+)"', page)
            assert csrf is not None
            auth = {"Authorization": f"Bearer {OPERATOR}"}
            form = {"csrf": csrf.group(1), "text": "And when will it arrive?"}
            async with console.client.post(
                path, data=form, headers=auth, allow_redirects=False
            ) as resp:
                assert resp.status == 303
            _, page = await console.get(path, token=VIEWER)
            assert 'id="chat-send"' not in page
            own = re.search(r'name="csrf-token" content="([^"]+)"', page)
            assert own is not None
            viewer = {"Authorization": f"Bearer {VIEWER}"}
            form = {"csrf": own.group(1), "text": "not allowed"}
            async with console.client.post(path, data=form, headers=viewer) as resp:
                assert resp.status == 403 and "may not write as customer" in await resp.text()
    finally:
        await console.client.close()
        await sandbox.close()
    assert written == [
        {"phone_number_id": facts.NUMBER, "text": "And when will it arrive?",
         "from": facts.CUSTOMER}
    ]  # fmt: skip
