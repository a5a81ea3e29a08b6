"""Meta's webhook payloads as the builders' tests write them: one change of one entry, and the
one event it must become."""

from __future__ import annotations

from typing import Any

from services.ingest.changes import Emit
from services.ingest.normalize import normalize

WABA = "102290129340398"
PNID = "106540352242922"
CUSTOMER = "16505551234"
METADATA = {"display_phone_number": "15550783881", "phone_number_id": PNID}
TIME = 1751247548


def webhook(field: str, value: dict[str, Any], time: int | None = TIME) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": WABA, "changes": [{"field": field, "value": value}]}
    if time is not None:
        entry["time"] = time
    return {"object": "whatsapp_business_account", "entry": [entry]}


def only_event(payload: dict[str, Any]) -> Emit:
    out = normalize(payload, "corr")
    assert out.unparsed == []
    assert len(out.events) == 1
    return out.events[0]
