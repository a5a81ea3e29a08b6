"""A peer beside ingest's normalisation: the same webhook bodies (the load generator's signed
status webhooks, and a customer's text message) parsed by pywa, what a Python team would
otherwise use, from the raw bytes to typed objects, one core, no I/O."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from pywa import WhatsApp
from pywa.types import Message, MessageStatus

from bench import loadgen
from services.ingest.normalize import normalize


def contact(n: int) -> dict[str, Any]:
    """The `contacts` entry of a payload since business-scoped user ids (pywa 4 needs one)."""
    return {"profile": {"name": "Customer"}, "wa_id": f"1650{n:07d}", "user_id": f"US.{n:019d}"}


def text_message(n: int) -> bytes:
    message = {
        "from": f"1650{n:07d}", "from_user_id": f"US.{n:019d}", "id": f"wamid.IN{n:012d}",
        "timestamp": str(int(time.time()) - 1), "type": "text", "text": {"body": "In stock?"},
    }  # fmt: skip
    return loadgen.webhook([], contacts=[contact(n)], messages=[message])


def status(n: int) -> bytes:
    """A delivered status as sent since business-scoped user ids: `contacts` beside it."""
    delivered = {
        **loadgen.status(f"wamid.OUT{n:012d}", "delivered", f"1650{n:07d}"),
        "recipient_user_id": f"US.{n:019d}",
    }
    return loadgen.webhook([delivered], contacts=[contact(n)])


def bodies(count: int) -> dict[str, list[bytes]]:
    return {
        "status": [status(n) for n in range(count)],
        "text message": [text_message(n) for n in range(count)],
    }


def _rate(items: list[bytes], parse: Callable[[bytes], Any]) -> float:
    started = time.perf_counter()
    for body in items:
        parse(body)
    return len(items) / (time.perf_counter() - started)


def run(count: int) -> dict[str, dict[str, float]]:
    """Webhooks per second, by kind: {kind: {"wagate": ..., "pywa": ...}}."""
    client = WhatsApp(phone_id=loadgen.PNID, token="bench", filter_updates=False)

    def ours(body: bytes) -> None:
        out = normalize(json.loads(body), "corr")
        assert out.events and not out.unparsed

    def pywa_status(body: bytes) -> None:
        assert MessageStatus.from_update(client, json.loads(body)).id

    def pywa_message(body: bytes) -> None:
        assert Message.from_update(client, json.loads(body)).text

    figures = {}
    for kind, items in bodies(count).items():
        peer = pywa_status if kind == "status" else pywa_message
        figures[kind] = {"wagate": _rate(items, ours), "pywa": _rate(items, peer)}
    return figures
