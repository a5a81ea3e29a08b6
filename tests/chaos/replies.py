"""Free-form replies to customers whose customer service windows are open, over the wired
system with the sandbox's faults set: what the chaos runs and the drain test send."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiohttp

from shared.client import DeliveryFollower, WagateClient
from shared.events.intents import OutboundIntentSubmitted, TextContent
from tests.e2e.conftest import System
from tests.e2e.test_walkthrough import PHONE_NUMBER_ID, _wait_metric


async def sandbox_json(
    session: aiohttp.ClientSession, method: str, url: str, **kw: object
) -> object:
    async with session.request(method, url, **kw) as resp:  # type: ignore[arg-type]
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def open_windows(system: System, customers: Sequence[str], faults: dict[str, object]) -> None:
    """Each customer writes once (policy has seen every window open), then the sandbox's
    faults are set."""
    sandbox = system.url("sandbox")
    async with aiohttp.ClientSession() as session:
        for customer in customers:
            body = {"phone_number_id": PHONE_NUMBER_ID, "from": customer, "text": "hi"}
            await sandbox_json(session, "POST", f"{sandbox}/sandbox/customer-messages", json=body)
        await _wait_metric(system, "policy", "wagate_policy_windows_updated_total", len(customers))
        await sandbox_json(session, "PUT", f"{sandbox}/_sandbox/faults", json=faults)


def replies(prefix: str, to: Sequence[str]) -> list[OutboundIntentSubmitted]:
    """One reply to each of `to`, in order, with ids `<prefix>-<n>`."""
    return [
        OutboundIntentSubmitted(
            intent_id=f"{prefix}-{n}",
            phone_number_id=PHONE_NUMBER_ID,
            to=customer,
            content=TextContent(body=f"Update {n}"),
            priority="reply",
        )
        for n, customer in enumerate(to)
    ]


@asynccontextmanager
async def submitted(
    system: System, intents: Sequence[OutboundIntentSubmitted]
) -> AsyncIterator[tuple[DeliveryFollower, aiohttp.ClientSession]]:
    """Submit `intents`, followed from before the first: their updates, and a session."""
    async with (
        WagateClient(system.kafka) as client,
        client.follow([i.intent_id for i in intents]) as stream,
        aiohttp.ClientSession() as session,
    ):
        for intent in intents:
            await client.send(intent)
        yield stream, session
