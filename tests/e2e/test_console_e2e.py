"""The console in a real headless Chromium, after the README walkthrough: each intent's
timeline with its reasons and states, the customer's window and consent, a dead letter
redriven and then processed, and no page without a token."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from examples.order_notifications import shipped
from shared import codec, deadletters
from shared.client import WagateClient
from shared.events.intents import OutboundIntentSubmitted, TemplateContent, TextContent
from shared.events.keys import conversation_key
from shared.messaging import make_producer
from shared.topics import DEAD_LETTERS, INTENTS
from tests.conftest import free_port, unavailable
from tests.e2e.conftest import System, _wait_ready
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric
from tests.e2e.test_worked_example import _approved_starter_template

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
OPERATOR = "e2e-operator-token-0123456789"
CUSTOMER, STRANGER, OUTSIDE = "16505551234", "16505559876", "16505557777"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,1600")  # fmt: skip


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not path.exists():
            unavailable("the headless browser", f"{path} is missing (deploy/local/browser.sh)")
    profile = tempfile.mkdtemp(prefix="wagate-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    except WebDriverException as exc:
        unavailable("the headless browser", str(exc))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


async def _start_console(system: System) -> str:
    system.ports["console"] = free_port()
    system.env.update(
        CONSOLE_HTTP__PORT=str(system.ports["console"]),
        CONSOLE_LOG__JSON_FORMAT="true",
        CONSOLE_KAFKA__BOOTSTRAP=system.kafka.bootstrap,
        CONSOLE_KAFKA__TOPIC_PREFIX=system.kafka.topic_prefix,
        CONSOLE_POSTGRES__URL=system.database_url,
        CONSOLE_GROUP=f"wagate-console-{uuid.uuid4().hex[:8]}",
        CONSOLE_TOKENS=f'[{{"name": "olga", "token": "{OPERATOR}", "role": "operator"}}]',
        CONSOLE_SANDBOX_URL=system.url("sandbox"),
        CONSOLE_LIVE_INTERVAL_S="0.3",
    )
    system.start("console")
    await _wait_ready(system, "console", time.monotonic() + 120)
    return system.url("console")


async def _walkthrough(system: System) -> dict[str, str]:
    """The README's steps: a customer writes, a reply, a stranger, a template; the business
    recorded the customers' opt-ins beforehand (marketing, and utility for the template)."""
    await _opt_ins(system, (CUSTOMER, "marketing"), (OUTSIDE, "utility"))
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{system.url('sandbox')}/sandbox/customer-messages",
            json={"phone_number_id": PHONE_NUMBER_ID, "from": CUSTOMER, "text": "Shipped?"},
        ) as resp,
    ):
        assert resp.status == 200
    await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", 1)
    await _approved_starter_template(system, "shipping_update")
    await asyncio.sleep(2)  # the approved state reaches policy through its topic
    template = shipped(PHONE_NUMBER_ID, OUTSIDE, "A-1042", "Maria").fallback_template
    assert template is not None
    intents = {
        "delivered": _text(CUSTOMER, "Yes, it left this morning."),
        "rejected": _text(STRANGER, "Hello there!"),
        "template": OutboundIntentSubmitted(
            intent_id=f"e2e-{uuid.uuid4()}",
            phone_number_id=PHONE_NUMBER_ID,
            to=OUTSIDE,
            content=TemplateContent.model_validate(template.model_dump()),
            metadata={"order_id": "A-1042"},
        ),
    }
    async with WagateClient(system.kafka) as client:
        for name, intent in intents.items():
            updates = await client.send_and_wait(intent, timeout_s=60)
            assert updates[-1].state == ("rejected" if name == "rejected" else "delivered")
    return {name: intent.intent_id for name, intent in intents.items()}


async def _opt_ins(system: System, *given: tuple[str, str]) -> None:
    await system.opted_in(PHONE_NUMBER_ID, *given)


def _text(to: str, body: str) -> OutboundIntentSubmitted:
    return OutboundIntentSubmitted(
        intent_id=f"e2e-{uuid.uuid4()}", phone_number_id=PHONE_NUMBER_ID, to=to,
        content=TextContent(body=body), priority="reply",
    )  # fmt: skip


async def _dead_letter(system: System) -> str:
    """An intent some consumer gave up on, as the consume loop dead-letters it."""
    intent = _text(CUSTOMER, "Sorry for the wait: your refund is on its way.")
    producer: AIOKafkaProducer = make_producer(system.kafka, "e2e-dead")
    await producer.start()
    try:
        await producer.send_and_wait(
            system.kafka.topic(DEAD_LETTERS.name),
            codec.encode(intent),
            key=conversation_key(PHONE_NUMBER_ID, CUSTOMER).encode(),
            headers=deadletters.headers(
                "RetryableError: the database was down for too long", "wagate-policy",
                topic=system.kafka.topic(INTENTS.name), partition=0, offset=0,
            ),
        )  # fmt: skip
    finally:
        await producer.stop()
    return intent.intent_id


def _texts(driver: WebDriver, css: str) -> list[str]:
    """The texts of the elements `css` selects; a live view may replace them meanwhile."""
    try:
        return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]
    except WebDriverException:  # stale: the live view replaced them while being read
        return []


def _wait_text(driver: WebDriver, css: str, text: str, timeout: float = 30) -> None:
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.2).until(
            lambda d: any(text in t for t in _texts(d, css))
        )
    except TimeoutException:
        found = _texts(driver, css)
        pytest.fail(f"{text!r} never showed in {css} at {driver.current_url}: {found}")


def _click(driver: WebDriver, element_id: str) -> None:
    """Click an element that a live view may be replacing at that moment."""
    for _ in range(20):
        try:
            driver.find_element(By.ID, element_id).click()
            return
        except WebDriverException:
            time.sleep(0.2)
    pytest.fail(f"#{element_id} could not be clicked at {driver.current_url}")


def _search(driver: WebDriver, query: str) -> None:
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(query)
    driver.find_element(By.ID, "search").click()


async def test_the_console_explains_the_walkthrough(system: System, browser: WebDriver) -> None:
    url = await _start_console(system)
    ids = await _walkthrough(system)
    redriven = await _dead_letter(system)

    async with aiohttp.ClientSession() as session, session.get(f"{url}/") as resp:
        assert resp.status == 401  # no token: refused
    browser.get(f"{url}/intents/{ids['rejected']}")
    assert browser.find_elements(By.ID, "token") and "WINDOW_CLOSED" not in browser.page_source
    browser.find_element(By.ID, "token").send_keys(OPERATOR)
    browser.find_element(By.ID, "sign-in").click()
    _wait_text(browser, "#intent-id", ids["rejected"])

    for name, state in (("delivered", "delivered"), ("rejected", "rejected"),
                        ("template", "delivered")):  # fmt: skip
        _search(browser, ids[name])
        _wait_text(browser, "#intent-id", ids[name])
        _wait_text(browser, "#final-state", state)
        _wait_text(browser, ".entry-decision .title", "Policy")
    _wait_text(browser, ".template-link", "100000000000001")
    _search(browser, ids["rejected"])
    _wait_text(browser, ".reason", "WINDOW_CLOSED The customer service window was closed")
    _wait_text(browser, "#window-seen", "the customer never wrote")

    _search(browser, ids["delivered"])
    _wait_text(browser, ".entry-delivery .pricing", "category=service")
    _click(browser, "customer-link")
    _wait_text(browser, "#windows", "open until")
    _wait_text(browser, "#windows", "a text message from the customer")
    _wait_text(browser, "#consent-now", "opted in")
    _wait_text(browser, "#consent-now", "crm:signup-form")

    browser.get(f"{url}/deadletters")
    _wait_text(browser, "#dead-letters", "the database was down for too long")
    browser.find_element(By.CSS_SELECTOR, ".dead-letter a").click()
    browser.find_element(By.ID, "redrive").click()
    _wait_text(browser, "#notice", "redriven to")
    _wait_text(browser, "#redriven", "1 time(s), last by olga")
    browser.find_element(By.ID, "intent-link").click()
    _wait_text(browser, "#final-state", "delivered", timeout=60)
    assert redriven in browser.current_url
