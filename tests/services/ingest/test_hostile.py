"""Property-based: hostile bodies and payloads never crash ingest, every event it builds can be
encoded, ids are deterministic, and a broken part never hides a valid one."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from services.ingest.handlers import WebhookIntake
from services.ingest.metrics import IngestMetrics
from services.ingest.normalize import normalize
from services.ingest.settings import IngestSettings
from services.ingest.verify import Parsed, parse_body
from shared import codec
from shared.metrics import new_registry
from shared.topics import WEBHOOKS_RAW
from shared.webhook_signature import sign
from tests.services.ingest.fakes import InMemoryDedupe, RecordingSink

PNID = "106540352242922"
VALID_MESSAGE = {
    "from": "16505551234",
    "id": "wamid.valid",
    "timestamp": "1749416383",
    "type": "text",
    "text": {"body": "Does it come in another color?"},
}
BASE: dict[str, Any] = {
    "object": "whatsapp_business_account",
    "entry": [
        {
            "id": "102290129340398",
            "time": 1751247548,
            "changes": [
                {
                    "field": "messages",
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": {
                            "display_phone_number": "15550783881",
                            "phone_number_id": PNID,
                        },
                        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
                        "messages": [VALID_MESSAGE],
                        "statuses": [
                            {
                                "id": "wamid.s",
                                "status": "read",
                                "timestamp": "1750263773",
                                "recipient_id": "16505551234",
                                "pricing": {"billable": True},
                                "errors": [{"code": 1, "error_data": {"details": "d"}}],
                            }
                        ],
                        "errors": [{"code": 130429, "title": "Rate limit hit"}],
                        "user_preferences": [
                            {
                                "wa_id": "16505551234",
                                "category": "marketing_messages",
                                "value": "stop",
                                "timestamp": 1731705721,
                            }
                        ],
                    },
                },
                {
                    "field": "message_template_status_update",
                    "value": {
                        "event": "PAUSED",
                        "message_template_id": 1,
                        "message_template_language": "en-US",
                        "other_info": {"title": "FIRST_PAUSE"},
                    },
                },
                {
                    "field": "template_category_update",
                    "value": {
                        "message_template_id": 2,
                        "new_category": "UTILITY",
                        "category_update_timestamp": 1746169200,
                    },
                },
                {"field": "phone_number_quality_update", "value": {"event": "FLAGGED"}},
            ],
        }
    ],
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


PATHS = [p for p in _paths(BASE) if p]


@st.composite
def mutated_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """BASE with a few of its parts replaced by arbitrary JSON."""
    payload = copy.deepcopy(BASE)
    for path in draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=3)):
        target: Any = payload
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    return payload


def _check(payload: Any) -> None:
    first = normalize(payload, "corr").to_publish("corr")
    again = normalize(copy.deepcopy(payload), "corr").to_publish("corr")
    assert [e.event_id for _, e, _ in first] == [e.event_id for _, e, _ in again]
    for spec, event, key in first:
        assert spec.model is not None
        assert isinstance(key, str)
        codec.decode(spec.model, codec.encode(event))


@settings(max_examples=300, deadline=None)
@given(mutated_payloads())
def test_a_mutated_payload_never_crashes_and_every_event_encodes(payload: dict[str, Any]) -> None:
    _check(payload)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_never_crashes_normalisation(payload: Any) -> None:
    _check(payload)


@settings(max_examples=200, deadline=None)
@given(
    json_values,
    st.sampled_from(
        [
            "messages",
            "history",
            "account_update",
            "security",
            "message_template_quality_update",
            "user_preferences",
        ]
    ),
)
def test_a_hostile_change_never_hides_a_valid_message(hostile: Any, field: str) -> None:
    payload = copy.deepcopy(BASE)
    valid = {
        "field": "messages",
        "value": {"metadata": {"phone_number_id": PNID}, "messages": [VALID_MESSAGE]},
    }
    payload["entry"][0]["changes"] = [{"field": field, "value": hostile}, valid]

    events = normalize(payload, "corr").events

    assert "wamid.valid" in [getattr(e, "message_id", None) for _, e, _ in events]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), json_values))
def test_parse_body_never_raises(body: bytes) -> None:
    assert isinstance(parse_body(body), Parsed | str)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.binary(max_size=200)
    | st.builds(lambda v: json.dumps(v).encode(), json_values)
    | st.builds(lambda p: json.dumps(p).encode(), mutated_payloads())
)
async def test_a_signed_hostile_body_gets_200_or_400_and_the_journal_comes_first(
    body: bytes,
) -> None:
    sink = RecordingSink()
    intake = WebhookIntake(
        IngestSettings(app_secrets=[SecretStr("s")]),
        sink,
        InMemoryDedupe(),
        IngestMetrics(new_registry()),
    )

    reply = await intake.receive(body, sign(body, "s"), datetime(2026, 1, 1, tzinfo=UTC))

    assert reply.status in (200, 400)
    if reply.status == 200:
        assert sink.topics()[0] == WEBHOOKS_RAW.name
        assert sink.published[0][1].body == body.decode()  # type: ignore[attr-defined]
    else:
        assert sink.published == []


wamids = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=", min_size=1, max_size=40)
digits = st.text(alphabet="0123456789", min_size=5, max_size=15)
valid_messages = st.fixed_dictionaries(
    {
        "from": digits,
        "id": wamids.map(lambda w: f"wamid.{w}"),
        "timestamp": st.integers(0, 4_000_000_000).map(str),
        "type": st.sampled_from(["text", "image", "reaction", "location", "sticker"]),
        "text": st.fixed_dictionaries({"body": st.text(min_size=1, max_size=50)}),
    }
)
valid_statuses = st.fixed_dictionaries(
    {
        "id": wamids.map(lambda w: f"wamid.out.{w}"),
        "status": st.sampled_from(["sent", "delivered", "read", "failed", "played"])
        | st.text(min_size=1, max_size=10),
        "timestamp": st.integers(0, 4_000_000_000),
        "recipient_id": digits,
    }
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(valid_messages, max_size=8, unique_by=lambda m: m["id"]),
    st.lists(valid_statuses, max_size=8, unique_by=lambda s: (s["id"], s["status"])),
)
def test_every_valid_item_becomes_exactly_one_event(
    messages: list[dict[str, Any]], statuses: list[dict[str, Any]]
) -> None:
    value = {"metadata": {"phone_number_id": PNID}, "messages": messages, "statuses": statuses}
    payload = {"entry": [{"id": "1", "changes": [{"field": "messages", "value": value}]}]}

    out = normalize(payload, "corr")

    assert out.unparsed == []
    assert len(out.events) == len(messages) + len(statuses)
    assert len({e.event_id for _, e, _ in out.events}) == len(out.events)
    keys = [k for _, _, k in out.events]
    assert keys == [f"{PNID}:{m['from']}" for m in messages] + [
        f"{PNID}:{s['recipient_id']}" for s in statuses
    ]
