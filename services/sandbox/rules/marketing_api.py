"""Meta's Marketing Messages API (`POST /{phone_number_id}/marketing_messages`, rules §9.3):
the `/messages` body plus `product_policy` and `message_activity_sharing`, for MARKETING
templates only (a non-template: 100; another category: 131055). A portfolio not onboarded
gets its message through the Cloud API with `CLOUD_API_FALLBACK` (the default), or a refusal
with `STRICT` (Meta's pages name no code for it: the sandbox answers 100). Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.sandbox.rules import codes
from shared.events.common import MetaError

POLICIES = frozenset({"CLOUD_API_FALLBACK", "STRICT"})
OWN_FIELDS = ("product_policy", "message_activity_sharing")
only_marketing = codes.Code(131055, "Method not allowed", "Only marketing templates are supported.")


@dataclass(frozen=True)
class Routed:
    """A request the endpoint takes: the `/messages` body it sends, and whether the Marketing
    Messages API delivers it (False: it fell back to the Cloud API)."""

    payload: dict[str, Any]
    lite: bool


def route(
    payload: Mapping[str, Any], template_category: str | None, onboarded: bool
) -> Routed | MetaError:
    """`template_category`: the named template's, None when no such template exists (then the
    Cloud API's own template checks answer)."""
    if payload.get("type") != "template":
        return codes.invalid_parameter("Message must be a template message")
    policy = payload.get("product_policy", "CLOUD_API_FALLBACK")
    if policy not in POLICIES:
        return codes.invalid_parameter(f"product_policy must be one of {sorted(POLICIES)}")
    sharing = payload.get("message_activity_sharing")
    if sharing is not None and not isinstance(sharing, bool):
        return codes.invalid_parameter("message_activity_sharing must be a boolean")
    if template_category is not None and template_category != "MARKETING":
        return only_marketing()
    if not onboarded and policy == "STRICT":
        return codes.invalid_parameter(
            "The business portfolio is not onboarded to the Marketing Messages API"
        )
    body = {k: v for k, v in payload.items() if k not in OWN_FIELDS}
    return Routed(body, lite=onboarded)
