"""The ingest benchmark's load generator, a process of its own: signed status webhooks (one
status each, or Meta's batch shape: several statuses in one change) posted to ingest, either
flat out from a fixed number of concurrent senders or at a fixed rate (open loop: a request
starts at its planned time whether or not the earlier ones have been answered).

`python -m bench.loadgen URL SECRET SHAPE MODE AMOUNT SECONDS` where SHAPE is `single` or
`batch:N`, MODE `flat` (AMOUNT concurrent senders) or `rate` (AMOUNT webhooks per second);
prints one JSON line: webhooks sent, answered 200, per second, latency p50/p99 in ms.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
import uuid
from typing import Any

import aiohttp

from bench.measure import quantile_ms
from shared import webhook_signature

WABA = "102290129340398"
PNID = "106540352242922"
METADATA = {"display_phone_number": "15550783881", "phone_number_id": PNID}
STATES = ("sent", "delivered", "read")


def status(wamid: str, state: str, customer: str) -> dict[str, Any]:
    """A status as Meta sends it, with pricing and the sender's callback data."""
    return {
        "id": wamid,
        "status": state,
        "timestamp": str(int(time.time()) - 1),
        "recipient_id": customer,
        "biz_opaque_callback_data": f"gw:bench:{wamid}",
        "pricing": {
            "billable": True,
            "pricing_model": "PMP",
            "category": "utility",
            "type": "regular",
        },
    }


def webhook(statuses: list[dict[str, Any]], **more: Any) -> bytes:
    """The body of a `messages` change of one entry: `statuses` (possibly none) and `more`."""
    value = {"messaging_product": "whatsapp", "metadata": METADATA, **more}
    if statuses:
        value["statuses"] = statuses
    entry = {"id": WABA, "changes": [{"field": "messages", "value": value}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


class Bodies:
    """Signed bodies of distinct statuses (so none is a duplicate ingest may drop early)."""

    def __init__(self, secret: str, per_webhook: int) -> None:
        self.secret = secret
        self.per_webhook = per_webhook
        self.run = uuid.uuid4().hex[:12]
        self.counter = itertools.count()

    def next(self) -> tuple[bytes, str]:
        statuses = []
        for _ in range(self.per_webhook):
            n = next(self.counter)
            statuses.append(
                status(f"wamid.B{self.run}{n:09d}", STATES[n % 3], f"1650{n % 10**7:07d}")
            )
        body = webhook(statuses)
        return body, webhook_signature.sign(body, self.secret)


class Load:
    def __init__(self, url: str, bodies: Bodies) -> None:
        self.url = url
        self.bodies = bodies
        self.seconds: list[float] = []
        self.sent = 0
        self.ok = 0

    async def post(self, session: aiohttp.ClientSession) -> None:
        body, signature = self.bodies.next()
        self.sent += 1
        started = time.perf_counter()
        headers = {webhook_signature.HEADER: signature, "Content-Type": "application/json"}
        try:
            async with session.post(self.url, data=body, headers=headers) as resp:
                await resp.read()
                self.ok += resp.status == 200
        except aiohttp.ClientError:
            return
        self.seconds.append(time.perf_counter() - started)

    async def flat(self, session: aiohttp.ClientSession, senders: int, seconds: float) -> None:
        until = time.perf_counter() + seconds

        async def sender() -> None:
            while time.perf_counter() < until:
                await self.post(session)

        await asyncio.gather(*(sender() for _ in range(senders)))

    async def rate(self, session: aiohttp.ClientSession, rate: float, seconds: float) -> None:
        started = time.perf_counter()
        tasks = []
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, started + n / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(self.post(session)))
        await asyncio.gather(*tasks)


async def run(
    url: str, secret: str, shape: str, mode: str, amount: float, seconds: float
) -> dict[str, float]:
    per_webhook = int(shape.split(":")[1]) if shape.startswith("batch:") else 1
    load = Load(url, Bodies(secret, per_webhook))
    connector = aiohttp.TCPConnector(limit=512)
    async with aiohttp.ClientSession(connector=connector) as session:
        await load.post(session)  # connected and warm before the clock starts
        load.seconds.clear()
        load.sent = load.ok = 0
        started = time.perf_counter()
        if mode == "flat":
            await load.flat(session, int(amount), seconds)
        else:
            await load.rate(session, amount, seconds)
        elapsed = time.perf_counter() - started
    return {
        "sent": load.sent,
        "ok": load.ok,
        "per_second": load.ok / elapsed,
        "statuses_per_second": load.ok * per_webhook / elapsed,
        "p50_ms": quantile_ms(load.seconds, 0.5),
        "p99_ms": quantile_ms(load.seconds, 0.99),
    }


def main() -> None:
    url, secret, shape, mode, amount, seconds = sys.argv[1:7]
    result = asyncio.run(run(url, secret, shape, mode, float(amount), float(seconds)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
