"""What never appears: after the README's whole walkthrough (a customer writes, a reply in the
window, a refusal outside it, a template with a parameter marked sensitive, a one-time code,
the console opened with an operator's token and searched for a customer), no service's log,
no record of any of the test's topics and no row of any table of its database holds an access
token, app secret, verify token, API key, console token, sealing key, one-time code or
sensitive value in clear; and the logs show customers' phone numbers only masked. The one
exception is the business system's own intent on wagate.intents.v1, which is how the code
enters wagate (docs/contract.md: sensitive values are kept out of everything downstream)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.console.settings import DEVELOPMENT_TOKEN
from shared.client import WagateClient
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.messaging import partitions_of
from shared.topics import INTENTS
from tests.conftest import SEALING_KEY
from tests.e2e.conftest import SERVICES, System
from tests.e2e.test_console_e2e import OPERATOR, _start_console
from tests.e2e.test_fallbacks_e2e import passcode
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric
from tests.e2e.test_worked_example import _approved_starter_template

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]
CUSTOMER, STRANGER, TEMPLATED, CODED = "16505551234", "16505559876", "16505557777", "16505553456"
PHONES = (CUSTOMER, STRANGER, TEMPLATED, CODED)
DEVELOPMENT_SECRETS = {
    "access token": "sandbox-token",
    "app secret": "sandbox-app-secret",
    "verify token": "wagate-verify-token",
    "templates API key": "wagate-dev-key",
    "console development token": DEVELOPMENT_TOKEN,
    "database password": "wagate:wagate@",
}


@pytest.fixture
def system_env() -> dict[str, str]:
    """Every service at DEBUG, where libraries would dump whole records."""
    return {f"{svc.upper()}_LOG__LEVEL": "DEBUG" for svc in (*SERVICES, "console")}


def _intent(to: str, content: TextContent | TemplateContent) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=f"leak-{uuid.uuid4()}", phone_number_id=PHONE_NUMBER_ID, to=to, content=content
    )


def _shipping(sensitive: str) -> TemplateContent:
    """The README's shipping_update, its date marked sensitive."""
    text = [{"type": "text", "text": t} for t in ("Maria", "A-1042")]
    return TemplateContent(
        name="shipping_update",
        language="en_US",
        components=[
            {"type": "header", "parameters": [{"type": "text", "text": "A-1042"}]},
            {
                "type": "body",
                "parameters": [*text, {"type": "text", "text": sensitive, "sensitive": True}],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": "A-1042"}],
            },
        ],
    )


def _passcode(code: str) -> TemplateContent:
    """The README's one_time_passcode: the code in the body and as the button's suffix."""
    return TemplateContent(name="one_time_passcode", language="en_US", components=passcode(code))


async def _walkthrough(system: System, code: str, sensitive: str) -> None:
    for name in ("shipping_update", "one_time_passcode"):
        await _approved_starter_template(system, name)
    await system.opted_in(PHONE_NUMBER_ID, (TEMPLATED, "utility"), (CODED, "authentication"))
    await system.customer_writes(PHONE_NUMBER_ID, CUSTOMER, "Is my order shipped?")
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 1)
    await _wait_metric(system, "policy", "wagate_policy_template_states_total", 4)
    await asyncio.sleep(3)  # both approved states reach policy through their topic
    async with WagateClient(system.kafka) as client:
        outcomes = {
            "reply": (CUSTOMER, TextContent(body="Yes, it left this morning."), "delivered"),
            "outside": (STRANGER, TextContent(body="Hello there!"), "rejected"),
            "template": (TEMPLATED, _shipping(sensitive), "delivered"),
            "passcode": (CODED, _passcode(code), "delivered"),
        }
        for step, (to, content, expected) in outcomes.items():
            updates = await client.send_and_wait(_intent(to, content), timeout_s=90)
            logs = "\n".join(f"--- {s}\n{system.log_tail(s, 15)}" for s in ("policy", "dispatch"))
            assert updates[-1].state == expected, f"{step}: {updates}\n{logs}"
    await _operator_looks(system, await _start_console(system))


async def _operator_looks(system: System, console: str) -> None:
    """An operator opens the console with a token and searches for the customer."""
    headers = {"Authorization": f"Bearer {OPERATOR}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        for path in ("/", f"/search?q={CUSTOMER}", "/deadletters"):
            async with session.get(f"{console}{path}") as resp:
                assert resp.status == 200, (path, resp.status, system.log_tail("console"))


async def _topic_records(system: System) -> list[tuple[str, str]]:
    """(topic, text) of every key, value and header of every topic of this run: its prefix,
    and policy's changelogs (named by its app id)."""
    app_id = system.env["POLICY_APP_ID"]
    admin = AIOKafkaAdminClient(bootstrap_servers=system.kafka.bootstrap)
    await admin.start()
    try:
        names = [
            t
            for t in await admin.list_topics()
            if t.startswith(system.kafka.topic_prefix) or t.startswith(app_id)
        ]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=system.kafka.bootstrap, group_id=None)
    await consumer.start()
    found: list[tuple[str, str]] = []
    try:
        parts = [TopicPartition(t, p) for t in names for p in await partitions_of(system.kafka, t)]
        consumer.assign(parts)
        await consumer.seek_to_beginning()
        ends = await consumer.end_offsets(parts)
        left = {tp for tp in parts if ends[tp] > 0}
        while left:
            batches = await consumer.getmany(timeout_ms=2000)
            if not batches:
                break
            for tp, records in batches.items():
                for r in records:
                    for raw in (r.key or b"", r.value or b"", *(v for _, v in r.headers)):
                        found.append((tp.topic, raw.decode(errors="replace")))
                if await consumer.position(tp) >= ends[tp]:
                    left.discard(tp)
    finally:
        await consumer.stop()
    assert names and found, names
    return found


async def _table_rows(database: str) -> list[str]:
    """Every row of every table of the test's database, as text."""
    conn = await asyncpg.connect(database)
    try:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        ]
        rows: list[str] = []
        for table in tables:
            rows += [r[0] for r in await conn.fetch(f'SELECT t::text FROM "{table}" t')]
    finally:
        await conn.close()
    assert {"dispatch_intents", "templates", "ingest_seen_events"} <= set(tables), tables
    return rows


def _hits(where: str, texts: list[str], secrets: dict[str, str]) -> Iterator[str]:
    for text in texts:
        for what, value in secrets.items():
            if value in text:
                yield f"{what} in {where}: ...{_around(text, value)}..."


def _around(text: str, value: str) -> str:
    at = text.index(value)
    return text[max(0, at - 80) : at + len(value) + 40]


def _service_logs(system: System) -> dict[str, str]:
    logs = {p.stem: p.read_text(errors="replace") for p in Path(system.logs).glob("*.log")}
    assert set(logs) == {*SERVICES, "console"}, set(logs)
    return logs


def _phones_in_clear(text: str) -> list[str]:
    return [p for p in PHONES if re.search(rf"(?<!\d){p}(?!\d)", text)]


async def test_no_secret_code_sensitive_value_or_phone_number_is_ever_in_clear(
    system: System,
) -> None:
    code = f"{uuid.uuid4().int % 900_000 + 100_000}"
    sensitive = f"sensitive-{uuid.uuid4().hex[:12]}"
    await _walkthrough(system, code, sensitive)
    secrets = {
        **DEVELOPMENT_SECRETS,
        "sealing key": SEALING_KEY.get_secret_value(),
        "console token": OPERATOR,
        "one-time code": code,
        "sensitive value": sensitive,
    }
    logs = _service_logs(system)
    records = await _topic_records(system)
    intents = system.kafka.topic(INTENTS.name)
    # the business system's own intent is where the code enters wagate: there alone it is clear
    assert any(code in text for topic, text in records if topic == intents)
    problems = [
        *(hit for name, text in logs.items() for hit in _hits(name, text.splitlines(), secrets)),
        *_hits("a topic", [text for topic, text in records if topic != intents], secrets),
        *_hits("a table", await _table_rows(system.database_url), secrets),
        *(
            f"phone {p} in clear in the {name} log: {line[:300]}"
            for name, text in logs.items()
            for line in text.splitlines()
            for p in _phones_in_clear(line)
        ),
    ]
    assert not problems, "\n".join(problems[:40])
