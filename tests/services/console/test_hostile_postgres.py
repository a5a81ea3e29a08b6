"""Hostile input at the console's doors: path and query values, forms, CSRF and methods.
Each is answered with a clear 4xx, never a 5xx, and changes nothing in the read model."""

from __future__ import annotations

import io
import random
import re
from typing import Any

import asyncpg
import pytest

from services.console.access import safe_next
from services.console.web import refused_value
from tests.services.console.conftest import OPERATOR, VIEWER, Console

pytestmark = pytest.mark.postgres

HOSTILE = ["a\x00b", "\x00", "line\r\nSet-Cookie: x=1", "tab\there", "\x1b[31m", "\x7f",
           "x" * 1025]  # fmt: skip
"""Values no page may read (an unpaired surrogate cannot come over HTTP: aiohttp decodes
invalid UTF-8 to U+FFFD; `refused_value` refuses it all the same, below)."""
ODD_BUT_FINE = ["", " ", "'; DROP TABLE console_intents; --", "%00", "<script>", "é" * 1024,
                "US.ENT.1", "+1 (650) 555-1234", "../../etc/passwd", "{{ 7*7 }}"]  # fmt: skip
AUTH = {"Authorization": f"Bearer {OPERATOR}"}


TABLES = ("console_customers", "console_identities", "console_intents", "console_dead_letters")


async def _counts(pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        counts = {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}
        counts["redrives"] = await conn.fetchval("SELECT sum(redrives) FROM console_dead_letters")
    return counts


async def _csrf(console: Console) -> str:
    _, page = await console.get("/")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found
    return found.group(1)


def _fuzz(seed: int, count: int) -> list[str]:
    """Values mixing every control character, surrogates, markup and long runs."""
    rng = random.Random(seed)
    alphabet = [chr(c) for c in range(0x20)]
    alphabet += ["\x7f", "\ud800", "\udfff", "a", "1", "+", "%", "<", "'", "\u202e", "😀", "/"]
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(count)]


@pytest.mark.parametrize("value", HOSTILE)
async def test_a_hostile_query_or_path_value_is_a_clear_400(console: Console, value: str) -> None:
    for path, params in [("/search", {"q": value}), ("/deadletters", {"m": value}),
                         ("/intents/late-1", {"x": value})]:  # fmt: skip
        async with console.client.get(path, params=params, headers=AUTH) as resp:
            assert resp.status == 400, (path, value)
            assert "refused: " in await resp.text()
    async with console.client.get("/intents/" + _quoted(value), headers=AUTH) as resp:
        assert resp.status in (400, 404), value


def _quoted(value: str) -> str:
    return "".join(
        c if c.isalnum() else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        for c in value
    )


@pytest.mark.parametrize("value", ODD_BUT_FINE)
async def test_odd_but_harmless_values_are_searched_as_text(console: Console, value: str) -> None:
    async with console.client.get("/search", params={"q": value}, headers=AUTH,
                                  allow_redirects=False) as resp:  # fmt: skip
        assert resp.status in (200, 303), value
        text = await resp.text()
    assert "<script>" not in text.replace('<script src="/static/live.js"></script>', "")
    assert "49" not in re.findall(r'value="([^"]*)"', text)  # no template evaluated


async def test_fuzzed_values_never_get_a_5xx(console: Console) -> None:
    for value in _fuzz(20, 150):
        for path in (f"/search?q={_quoted(value)}", f"/intents/{_quoted(value)}",
                     f"/customers/1/chat/{_quoted(value)}"):  # fmt: skip
            async with console.client.get(path, headers=AUTH, allow_redirects=False) as resp:
                assert resp.status < 500, (path, value)


@pytest.mark.parametrize(
    "path",
    ["/customers/99999999999999999999", "/customers/1234567890123456789",
     "/deadletters/wagate.deadletter.v1/99999999999/0",
     "/deadletters/wagate.deadletter.v1/0/99999999999999999999999"],
)  # fmt: skip
async def test_numbers_too_large_for_the_read_model_are_not_found(
    console: Console, path: str
) -> None:
    status, _ = await console.get(path)
    assert status == 404


async def test_hostile_forms_change_nothing(console: Console, pool: asyncpg.Pool) -> None:
    before = await _counts(pool)
    csrf = await _csrf(console)
    redrive = "/deadletters/wagate.deadletter.v1/0/7/redrive"
    cases: list[tuple[str, str, dict[str, str], dict[str, str], int]] = [
        ("POST", "/chat", {"csrf": csrf, "number": "1065", "customer": "1650\x00555"}, AUTH, 400),
        ("POST", "/chat", {"csrf": csrf, "number": "10\r\n65", "customer": "1650"}, AUTH, 400),
        ("POST", "/chat", {"csrf": csrf, "number": "1065", "customer": "x" * 9000}, AUTH, 400),
        ("POST", "/chat", {"csrf": "wrong", "number": "1065", "customer": "1650"}, AUTH, 403),
        ("POST", "/chat", {"number": "1065", "customer": "1650"}, AUTH, 403),
        ("POST", "/chat", {"csrf": csrf, "number": "1065", "customer": "1650"},
         {"Authorization": f"Bearer {VIEWER}"}, 403),
        ("POST", "/chat", {"csrf": csrf, "number": "1065", "customer": "1650"}, {}, 401),
        ("POST", "/customers/1/chat/1065", {"csrf": csrf, "text": "hi\x00"}, AUTH, 400),
        ("POST", redrive, {"csrf": csrf + "\x00"}, AUTH, 400),
        ("POST", redrive, {"csrf": csrf[:-1]}, AUTH, 403),
        ("GET", redrive, {}, AUTH, 405),
        ("PUT", redrive, {"csrf": csrf}, AUTH, 405),
        ("DELETE", "/deadletters/wagate.deadletter.v1/0/7", {"csrf": csrf}, AUTH, 405),
        ("POST", "/search", {"csrf": csrf, "q": "x"}, AUTH, 405),
        ("POST", "/login", {"csrf": "x", "token": "a\x00b", "next": "/"}, {}, 400),
        ("POST", "/logout", {"csrf": "x"}, AUTH, 403),
    ]  # fmt: skip
    for method, path, form, headers, status in cases:
        async with console.client.request(method, path, data=form, headers=headers,
                                          allow_redirects=False) as resp:  # fmt: skip
            assert resp.status == status, (method, path, form)
            assert resp.status != 400 or "refused: " in await resp.text()
    async with console.client.post("/chat", data=io.BytesIO(b"x" * (2 * 1024 * 1024)), headers={
            **AUTH, "Content-Type": "application/x-www-form-urlencoded"}) as resp:  # fmt: skip
        assert resp.status == 413
    assert await _counts(pool) == before


def test_a_chat_message_may_hold_line_breaks() -> None:
    """A free-text field keeps tabs and line breaks; it is still refused a NUL (above)."""
    assert refused_value([("text", "two\nlines\tand\r\n")], 100) is None
    assert refused_value([("text", "a\ud800")], 100) is not None
    assert refused_value([("text", "a\x00")], 100) is not None
    assert refused_value([("q", "x" * 101)], 100) == "'q' is longer than 100 characters"
    assert refused_value([("customer", "two\nlines")], 100) == (
        "'customer' holds a control character or an unpaired surrogate"
    )


@pytest.mark.parametrize(
    "target", ["/x\r\nSet-Cookie: a=1", "/\x00", "//evil.example", "https://evil.example",
               "/\\evil", "/ok path", "/caf\u00e9"],
)  # fmt: skip
def test_sign_in_never_sends_a_browser_to_a_hostile_target(target: str) -> None:
    assert safe_next(target) == "/"
