"""What Meta charges for a message and how it reports it in status webhooks (§3.3, §3.4, §4.5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.settings import GRAPH_API_VERSION

FEP_WINDOW = timedelta(hours=72)
_VERSION = re.compile(r"v(\d+)(?:\.\d+)?")
_CURRENT_MAJOR = int(GRAPH_API_VERSION.removeprefix("v").split(".")[0])


@dataclass(frozen=True)
class Billing:
    """The `pricing` of a message, and its `conversation` when Meta still reports one."""

    pricing: dict[str, Any]
    conversation_origin: str | None


def billing(
    template_category: str | None,
    csw_open: bool,
    fep_open: bool,
    lite: bool = False,
    service_charged: bool = False,
) -> dict[str, Any]:
    """The `pricing` object: free inside a FEP window, non-template and in-window utility free;
    `lite`: the Marketing Messages API delivered it (category `marketing_lite`, §9.3);
    `service_charged`: the 2026-10-01 model as reported (§9.4), where service messages and
    utility templates inside the window are charged (`regular`: a guess, Meta shows none)."""
    free_in_window = not service_charged
    if fep_open:
        kind, category = "free_entry_point", "referral_conversion"
    elif template_category is None:
        kind = "free_customer_service" if free_in_window else "regular"
        category = "service"
    elif template_category == "UTILITY" and csw_open and free_in_window:
        kind, category = "free_customer_service", "utility"
    else:
        kind, category = "regular", template_category.lower()
        if lite and category == "marketing":
            category = "marketing_lite"
    return {
        "billable": kind == "regular",
        "pricing_model": "PMP",
        "type": kind,
        "category": category,
    }


def reports_conversation(version: str, fep_open: bool) -> bool:
    """v23.0 and older always carry `conversation`; v24.0+ only inside a FEP window. A version
    that does not read as `vNN.N` is taken for the current one."""
    match = _VERSION.fullmatch(version)
    major = int(match.group(1)) if match else _CURRENT_MAJOR
    return fep_open or major <= 23


def conversation(conversation_id: str, origin: str, expires: datetime | None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": conversation_id}
    if expires is not None:
        item["expiration_timestamp"] = str(int(expires.timestamp()))
    item["origin"] = {"type": origin}
    return item


def fep_open(
    referral_at: datetime | None, fep_started: datetime | None, now: datetime
) -> tuple[bool, datetime | None]:
    """Whether `now` falls in a free entry point window, and when that window started.

    A reply within 24 h of a click-to-WhatsApp message starts a 72 h window at the reply."""
    if fep_started is not None and now < fep_started + FEP_WINDOW:
        return True, fep_started
    fresh = fep_started is None or (referral_at is not None and fep_started < referral_at)
    if referral_at is not None and referral_at <= now < referral_at + timedelta(hours=24) and fresh:
        return True, now
    return False, fep_started
