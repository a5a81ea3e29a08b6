"""Property-based: hostile values built from Meta's payload shapes (malformed, mistyped,
NUL-bearing, NaN-bearing, non-UTF-8, deeply nested, duplicated, and mixed with valid items) never
crash ingest nor get a 5xx; every valid sibling is published; no typed event misstates the item it
came from; every invalid item is on the unparsed topic, whole, with its reason."""

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
from services.ingest.normalize import Normalized, normalize
from services.ingest.settings import IngestSettings
from services.ingest.verify import Parsed, parse_body
from shared import codec
from shared.events.envelope import Event
from shared.events.unparsed import WebhookFragmentUnparsed
from shared.events.webhooks import InboundMessageReceived
from shared.metrics import new_registry
from shared.topics import WEBHOOKS_RAW
from shared.webhook_signature import sign
from tests.services.ingest.fakes import InMemoryDedupe, RecordingSink
from tests.services.ingest.hostile_shapes import (
    MESSAGE_DEFECTS,
    METADATA,
    STATUS_DEFECTS,
    Hostile,
    contains,
    hostile,
    states,
    valid_message,
    valid_status,
)
from tests.shared.hostile import paths

WHERE = "entry[0].changes[0].value"
TEMPLATE_CHANGE = {
    "field": "message_template_status_update",
    "value": {"event": "PAUSED", "message_template_id": 1689556908129832,
              "message_template_language": "en_US", "other_info": {"title": "FIRST_PAUSE"}},
}  # fmt: skip


def _payload(value: dict[str, Any], *more: dict[str, Any]) -> dict[str, Any]:
    changes = [{"field": "messages", "value": value}, *more]
    entry = {"id": "102290129340398", "time": 1751247548, "changes": changes}
    return {"object": "whatsapp_business_account", "entry": [entry]}


@st.composite
def base_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A realistic body: messages, statuses, a value-level error, a preference and a template."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": dict(METADATA),
        "contacts": [{"profile": {"name": "Sheena"}, "wa_id": "16505551234"}],
        "messages": draw(st.lists(valid_message(), min_size=1, max_size=3)),
        "statuses": draw(st.lists(valid_status(), min_size=1, max_size=3)),
        "errors": [{"code": 130429, "title": "Rate limit hit"}],
        "user_preferences": [{"wa_id": "16505551234", "category": "marketing_messages",
                              "value": "stop", "timestamp": 1731705721}],
    }  # fmt: skip
    return _payload(value, copy.deepcopy(TEMPLATE_CHANGE))


hostile_scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(10**18, 10**40)
    | st.floats() | st.text(max_size=20) | st.just("a\x00b") | st.just("US.1\r\n2")
    | st.just(float("nan")) | st.just(float("-inf"))
)  # fmt: skip
json_values = st.recursive(
    hostile_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def mutated_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A realistic body with a few of its parts replaced by hostile JSON (NaN, NUL, CR/LF, huge
    numbers, wrong types, nesting), or an item duplicated."""
    payload = copy.deepcopy(draw(base_payloads()))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([p for p in paths(payload) if p]))
        target: Any = payload
        for step in path[:-1]:
            target = target[step]
        if isinstance(target, list) and draw(st.booleans()):
            target.append(copy.deepcopy(target[path[-1]]))  # a duplicate
        else:
            target[path[-1]] = draw(json_values)
    return payload


def _items(payload: Any) -> list[tuple[str, Any, str]]:
    """Every element of the item arrays of every messages change: (array, element, pnid)."""
    found = []
    entries = payload.get("entry") if isinstance(payload, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        for change in changes if isinstance(changes, list) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or not isinstance(value.get("metadata"), dict):
                continue
            pnid = str(value["metadata"].get("phone_number_id"))
            for name in ("messages", "statuses", "errors"):
                items = value.get(name)
                found += [(name, i, pnid) for i in (items if isinstance(items, list) else [])]
    return found


def _contact_pairs(payload: Any) -> list[tuple[Any, Any]]:
    """Every (wa_id, profile name) any contact of the payload gives, however broken."""
    return [
        (node.get("wa_id"), node["profile"].get("name"))
        for node in _nodes(payload)
        if isinstance(node, dict) and isinstance(node.get("profile"), dict)
    ]


def _nodes(value: Any) -> list[Any]:
    return [value, *(n for child in _children(value) for n in _nodes(child))]


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    return list(value) if isinstance(value, list) else []


def _typed(out: Normalized) -> list[Event]:
    return [e for _, e, _ in out.events]


def _check_invariants(payload: Any, out: Normalized) -> None:
    published = out.to_publish("corr")
    assert len({e.event_id for _, e, _ in published}) == len(published)
    for spec, event, key in published:
        assert spec.model is not None and isinstance(key, str)
        decoded = codec.decode(spec.model, codec.encode(event))
        if not isinstance(decoded, WebhookFragmentUnparsed):
            assert "\\u0000" not in codec.encode(event).decode()
    fragments = [u.fragment for u in out.unparsed]
    typed = _typed(out)
    names = _contact_pairs(payload)
    for event in typed:
        if isinstance(event, InboundMessageReceived) and event.contact_name is not None:
            # the sender's own contact, or the only one, whose `wa_id` the event then keeps
            assert (event.contact_wa_id or event.wa_id, event.contact_name) in names
    for name, item, pnid in _items(payload):
        told = any(states(e, item, pnid) for e in typed)
        kept = any(contains(f, item) for f in fragments)
        assert told or kept, f"{name} item neither published as it is nor unparsed: {item!r}"
    for event in typed:
        source = [i for _, i, p in _items(payload) if states(event, i, p)]
        assert source or not hasattr(event, "message_id"), f"misstated: {event!r}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_payloads())
def test_a_mutated_payload_never_crashes_nor_misstates_and_loses_no_item(payload: Any) -> None:
    out = normalize(payload, "corr")

    _check_invariants(payload, out)
    again = normalize(copy.deepcopy(payload), "corr").to_publish("corr")
    assert [e.event_id for _, e, _ in out.to_publish("corr")] == [e.event_id for _, e, _ in again]


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_never_crashes_normalisation(payload: Any) -> None:
    _check_invariants(payload, normalize(payload, "corr"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(valid_message(), max_size=5, unique_by=lambda m: m["id"]),
    st.lists(valid_status(), max_size=5, unique_by=lambda s: (s["id"], s["status"])),
    st.lists(hostile(valid_message(), MESSAGE_DEFECTS), max_size=4),
    st.lists(hostile(valid_status(), STATUS_DEFECTS), max_size=4),
    st.randoms(use_true_random=False),
)
def test_mixed_valid_and_invalid_items_each_go_where_they_belong(
    messages: list[dict[str, Any]],
    statuses: list[dict[str, Any]],
    bad_messages: list[Hostile],
    bad_statuses: list[Hostile],
    rnd: Any,
) -> None:
    mixed_messages = [*messages, *bad_messages, *(copy.deepcopy(m) for m in messages[:2])]
    mixed_statuses: list[Any] = [*statuses, *bad_statuses]
    rnd.shuffle(mixed_messages)
    rnd.shuffle(mixed_statuses)
    value = {"metadata": METADATA, "messages": [_raw(m) for m in mixed_messages],
             "statuses": [_raw(s) for s in mixed_statuses]}  # fmt: skip

    out = normalize(_payload(value), "corr")

    typed = _typed(out)
    assert len(typed) == len(messages) + len(statuses)
    for item in [*messages, *statuses]:
        assert sum(states(e, item) for e in typed) == 1, item
    expected = [
        (h.item, f"{h.kind}: {WHERE}.{array}[{i}]: ", h.says)
        for array, mixed in (("messages", mixed_messages), ("statuses", mixed_statuses))
        for i, h in enumerate(mixed)
        if isinstance(h, Hostile)
    ]
    assert len(out.unparsed) == len(expected)
    for unparsed, (item, start, says) in zip(out.unparsed, expected, strict=True):
        assert unparsed.fragment is item
        assert unparsed.reason.startswith(start), (unparsed.reason, start)
        assert says in unparsed.reason, (unparsed.reason, says)
    assert len(out.repeated) == min(len(messages), 2)


def _raw(entry: Any) -> Any:
    return entry.item if isinstance(entry, Hostile) else entry


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.builds(lambda v: json.dumps(v).encode(), json_values))
def test_parse_body_never_raises(body: bytes) -> None:
    assert isinstance(parse_body(body), Parsed | str)


def _no_literal(literal: str) -> None:
    raise AssertionError(f"a body with {literal} was accepted")


def _bodies() -> st.SearchStrategy[bytes]:
    as_json = st.builds(lambda p: json.dumps(p).encode(), mutated_payloads())
    return (
        st.binary(max_size=200)
        | as_json
        | st.builds(lambda b, at: b[:at] + b"\xff\xfe" + b[at:], as_json, st.integers(0, 400))
        | st.builds(lambda n: b'{"entry": ' + b"[" * n + b"]" * n + b"}", st.integers(30, 3000))
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_bodies())
async def test_a_signed_hostile_body_gets_200_or_400_and_what_is_kept_is_true(body: bytes) -> None:
    sink = RecordingSink()
    intake = WebhookIntake(
        IngestSettings(app_secrets=[SecretStr("s")]),
        sink,
        InMemoryDedupe(),
        IngestMetrics(new_registry()),
    )

    reply = await intake.receive(body, sign(body, "s"), datetime(2026, 1, 1, tzinfo=UTC))

    assert reply.status in (200, 400)
    if reply.status == 400:
        assert sink.published == []
        return
    assert sink.topics()[0] == WEBHOOKS_RAW.name
    assert sink.published[0][1].body == body.decode()  # type: ignore[attr-defined]
    payload = json.loads(body, parse_constant=_no_literal)
    out = normalize(payload, "check")
    _check_invariants(payload, out)
    assert len(sink.published) == 1 + len(out.to_publish("check"))


def _published(out: Normalized) -> list[tuple[str, dict[str, Any], str]]:
    return [
        (spec.name, event.model_dump(exclude={"occurred_at"}), key)
        for spec, event, key in out.to_publish("corr")
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_payloads() | json_values, st.booleans())
def test_a_body_found_plain_when_read_normalises_exactly_as_one_searched_again(
    payload: Any, nul_in_text: bool
) -> None:
    # json.dumps writes a NUL as \u0000 and a lone surrogate as its escape, as Meta would
    body = json.dumps({"entry": [], **payload} if isinstance(payload, dict) else payload).encode()
    if nul_in_text:
        body = body.replace(b'"', b'"\\u0000', 1)  # a NUL in the first key or string
    parsed = parse_body(body)
    if not isinstance(parsed, Parsed):
        return  # refused whole (NaN, not an object...): nothing is normalised
    if nul_in_text:
        assert not parsed.plain
    checked = normalize(parsed.payload, "corr", checked=parsed.plain)
    assert _published(checked) == _published(normalize(parsed.payload, "corr"))
