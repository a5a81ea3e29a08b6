"""`wagate numbers` shows dispatch's live state of each number, and with `--limits` policy's
messaging limit of each portfolio; a server that answers badly or not at all says so."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner

from cli.numbers_cmd import numbers

NUMBERS = {"numbers": {"111": {"mps": 1000.0, "quality_rating": "GREEN", "source": "meta"}}}
ACCOUNTS = {"portfolios": {"p1": {"limit": 2000, "source": "meta"}}}


def _server(status: int = 200, text: str | None = None) -> TestServer:
    async def numbers_page(_: web.Request) -> web.Response:
        if text is not None:
            return web.Response(status=status, text=text)
        return web.json_response(NUMBERS, status=status)

    async def accounts_page(_: web.Request) -> web.Response:
        return web.json_response(ACCOUNTS)

    app = web.Application()
    app.router.add_get("/numbers", numbers_page)
    app.router.add_get("/accounts", accounts_page)
    return TestServer(app)


async def _run(*args: str) -> Any:
    return await asyncio.to_thread(CliRunner().invoke, numbers, list(args))


async def test_the_numbers_live_state_and_the_portfolios_limits() -> None:
    async with _server() as server:
        url = str(server.make_url("")).rstrip("/")
        plain = await _run("--dispatch-url", url)
        both = await _run("--dispatch-url", url, "--policy-url", url, "--limits")
    assert plain.exit_code == 0 and json.loads(plain.output) == NUMBERS
    assert both.exit_code == 0 and json.loads(both.output) == {**NUMBERS, **ACCOUNTS}


async def test_a_bad_answer_or_no_server_is_an_error() -> None:
    async with _server(status=503) as failing, _server(text="not json") as garbled:
        down = await _run("--dispatch-url", str(failing.make_url("")).rstrip("/"))
        bad = await _run("--dispatch-url", str(garbled.make_url("")).rstrip("/"))
    unreachable = await _run("--dispatch-url", "http://127.0.0.1:9")
    assert down.exit_code != 0 and "answered 503" in down.output
    assert bad.exit_code != 0 and "no JSON" in bad.output
    assert unreachable.exit_code != 0 and "unreachable" in unreachable.output
