"""PolicyHandlers over plain dict tables: what they keep in the tables and what they emit, for
customer messages, consent, template states and intents (deferred, limited, sealed, rerouted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from structlog.testing import capture_logs

from services.policy import tiers
from services.policy.consent import ConsentRules
from services.policy.handlers import PolicyHandlers
from services.policy.metrics import NO_REASON, PolicyMetrics
from services.policy.rules import PolicyConfig
from services.policy.tables import TABLES, Tables
from services.policy.windows import WindowState
from shared import codec
from shared.events.consent import ConsentChanged
from shared.events.decisions import PolicyDecisionMade
from shared.events.intents import (
    OutboundIntentSubmitted,
    Redecision,
    TemplateContent,
    TextContent,
)
from shared.events.keys import conversation_key
from shared.events.template_states import ButtonParameter, ParameterSpec, TemplateStateChanged
from shared.events.webhooks import InboundMessageReceived
from shared.events.windows import WindowChanged
from shared.metrics import new_registry
from shared.sealing import Sealer
from tests.conftest import SEALING_KEY
from tests.services.policy.night import CONFIG, NIGHT_IN_CA, US, marketing

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
H = timedelta(hours=1)
LEAD = H
AGO = timedelta(hours=1)
PNID = "106540352242922"
CUSTOMER = "16505551234"
KEY = conversation_key(PNID, CUSTOMER)


class Harness:
    """PolicyHandlers over dict tables, keeping what each emitter was handed, in order."""

    def __init__(
        self, config: PolicyConfig | None = None, now: datetime = NOW, **tables: dict[str, Any]
    ) -> None:
        self.now = now
        self.sent: list[tuple[str, str, bytes]] = []  # (emitter, key, value)
        self.registry = new_registry()
        self.tables = Tables(**{spec.name: tables.get(spec.name, {}) for spec in TABLES})
        self.handlers = PolicyHandlers(
            tables=self.tables,
            config=config or PolicyConfig(),
            metrics=PolicyMetrics(self.registry),
            emit_decision=self._emitter("decision"),
            reroute_intent=self._emitter("reroute"),
            emit_window=self._emitter("window"),
            release_intent=self._emitter("release"),
            clock=lambda: self.now,
            sealer=Sealer([SEALING_KEY]),
        )

    def _emitter(self, name: str) -> Any:
        async def send(key: str, value: bytes) -> None:
            self.sent.append((name, key, value))

        return send

    def emitted(self, name: str) -> list[tuple[str, bytes]]:
        return [(key, value) for emitter, key, value in self.sent if emitter == name]

    def decisions(self) -> list[PolicyDecisionMade]:
        return [codec.decode(PolicyDecisionMade, value) for _, value in self.emitted("decision")]

    def windows(self) -> list[WindowChanged]:
        return [codec.decode(WindowChanged, value) for _, value in self.emitted("window")]

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def _opt_in(pnid: str, customer: str, at: datetime, category: str = "all") -> ConsentChanged:
    return ConsentChanged(
        phone_number_id=pnid,
        customer=customer,
        category=category,
        opted_in=True,
        occurred_at=at,
        source="signup form",
    )


def _inbound(at: datetime, wamid: str, text: str = "hi") -> InboundMessageReceived:
    return InboundMessageReceived(
        phone_number_id=PNID,
        wa_id=CUSTOMER,
        message_id=wamid,
        timestamp=at,
        message_type="text",
        text=text,
    )


# windows


async def test_a_window_announces_opened_expiring_closed_once_each() -> None:
    h = Harness()
    handlers = h.handlers
    await handlers.on_inbound(_inbound(NOW - timedelta(minutes=1), "wamid.1"))
    await handlers.on_inbound(_inbound(NOW, "wamid.2"))  # a refresh, not a new opening
    h.now = NOW + 23 * H + timedelta(minutes=5)
    assert await handlers.announce_due(LEAD, AGO) == 1
    assert await handlers.announce_due(LEAD, AGO) == 0
    h.now = NOW + 24 * H + timedelta(minutes=5)
    assert await handlers.announce_due(LEAD, AGO) == 1
    announced = h.windows()
    assert [e.change for e in announced] == ["opened", "expiring", "closed"]
    assert {e.expires_at for e in announced[1:]} == {NOW + 24 * H}
    assert announced[0].wa_id == "16505551234"


async def test_recovered_windows_are_announced_after_a_reassignment() -> None:
    recovered = {KEY: WindowState(last_customer_message_at=NOW).model_dump(mode="json")}
    h = Harness(windows=recovered)  # the tables as the changelog filled them
    h.now = NOW + 23 * H + timedelta(minutes=5)
    assert await h.handlers.announce_due(LEAD, AGO, generation=1) == 1
    other = conversation_key(PNID, "16505550000")
    recovered[other] = WindowState(last_customer_message_at=NOW).model_dump(mode="json")
    assert await h.handlers.announce_due(LEAD, AGO, generation=1) == 0  # not seen yet
    assert await h.handlers.announce_due(LEAD, AGO, generation=2) == 1  # a new assignment
    assert [(e.change, e.wa_id) for e in h.windows()] == [
        ("expiring", CUSTOMER),
        ("expiring", "16505550000"),
    ]


async def test_a_message_after_the_window_closed_opens_it_again() -> None:
    h = Harness()
    await h.handlers.on_inbound(_inbound(NOW - 30 * H, "wamid.old"))  # arrives late: closed
    await h.handlers.on_inbound(_inbound(NOW, "wamid.new"))
    announced = h.windows()
    assert [e.change for e in announced] == ["opened"]
    assert announced[0].last_customer_message_at == NOW


async def test_the_window_view_shows_the_table_entry() -> None:
    h = Harness()
    await h.handlers.on_inbound(_inbound(NOW - H, "wamid.1"))
    view = h.handlers.window_view(PNID, CUSTOMER)
    assert view["is_open"] is True
    assert view["expires_at"] == (NOW + 23 * H).isoformat().replace("+00:00", "Z")
    assert view["free_entry_point"] is False and view["free_entry_until"] is None
    assert h.handlers.window_view(PNID, "16505550000")["is_open"] is False
    assert h.metric("wagate_policy_windows_updated_total") == 1


# templates


def _template(version: int, status: str = "APPROVED") -> TemplateStateChanged:
    return TemplateStateChanged(
        waba_id="w",
        name="order_shipped",
        language="en_US",
        category="UTILITY",
        status=status,
        parameters=ParameterSpec(body_count=0),
        version=version,
    )


def test_an_older_template_state_never_replaces_a_newer_one() -> None:
    h = Harness()
    h.handlers.on_template_state(_template(2, "PAUSED"))
    h.handlers.on_template_state(_template(1, "APPROVED"))
    assert h.tables.templates[_template(2).key]["status"] == "PAUSED"
    h.handlers.on_template_state(_template(3, "APPROVED"))
    assert h.tables.templates[_template(3).key]["status"] == "APPROVED"
    assert h.metric("wagate_policy_template_states_total") == 2


# intents


async def test_an_intent_keyed_off_its_conversation_is_rerouted_not_decided() -> None:
    h = Harness()
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=TextContent(body="hi")
    )
    raw = codec.encode(intent)
    await h.handlers.on_intent(intent, b"some-other-key", raw)
    assert h.emitted("reroute") == [(KEY, raw)]
    assert h.decisions() == []
    assert h.metric("wagate_policy_intents_rerouted_total") == 1


async def test_decisions_are_counted_by_outcome_and_reason() -> None:
    h = Harness()
    await h.handlers.on_inbound(_inbound(NOW - H, "wamid.1"))
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=TextContent(body="hi")
    )
    await h.handlers.on_intent(intent, KEY.encode(), codec.encode(intent))
    h.now = NOW + 24 * H
    late = intent.model_copy(update={"intent_id": "i-2"})
    await h.handlers.on_intent(late, KEY.encode(), codec.encode(late))
    assert [d.outcome for d in h.decisions()] == ["approved", "rejected"]
    decisions = "wagate_policy_decisions_total"
    assert h.metric(decisions, outcome="approved", reason=NO_REASON) == 1
    assert h.metric(decisions, outcome="rejected", reason="WINDOW_CLOSED") == 1


async def test_a_deferred_intent_is_released_once_and_decided_again() -> None:
    key = conversation_key("1", US)
    h = Harness(
        CONFIG,
        now=NIGHT_IN_CA,
        windows={key: {"last_customer_message_at": "2026-03-02T05:00:00Z"}},
    )
    handlers = h.handlers
    handlers.on_consent(_opt_in("1", US, NIGHT_IN_CA - H, "marketing"))
    raw = codec.encode(marketing())
    await handlers.on_intent(marketing(), key.encode(), raw)
    assert [d.outcome for d in h.decisions()] == ["deferred"]
    assert await handlers.deferrals.release_due(h.now) == 0  # not yet

    h.now = datetime(2026, 3, 2, 16, 0, 1, tzinfo=UTC)
    assert await handlers.deferrals.release_due(h.now) == 1
    assert await handlers.deferrals.release_due(h.now) == 0  # sent once
    assert h.emitted("release") == [(key, raw)]

    await handlers.on_intent(marketing(), key.encode(), raw, released=True)
    await handlers.on_intent(marketing(), key.encode(), raw, released=True)  # a duplicate
    decisions = h.decisions()
    assert [d.outcome for d in decisions] == ["deferred", "approved"]
    assert decisions[0].event_id != decisions[1].event_id
    assert handlers.deferrals.held(key) == {}


async def test_the_handler_counts_each_new_customer_once_and_stops_at_the_share() -> None:
    at = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
    state = _template(1)
    h = Harness(
        PolicyConfig(
            default_waba_id="w",
            messaging_limit=2,
            partitions=1,
            consent=ConsentRules(opt_in_required=frozenset()),
        ),
        now=at,
        templates={state.key: state.model_dump()},
    )
    template = OutboundIntentSubmitted(
        intent_id="i",
        phone_number_id="1",
        to="16505551234",
        content=TemplateContent(name="order_shipped", language="en_US"),
    )
    for n, customer in enumerate(["16505550001", "16505550001", "16505550002", "16505550003"]):
        intent = template.model_copy(update={"intent_id": f"i{n}", "to": customer})
        key = conversation_key("1", customer)
        await h.handlers.on_intent(intent, key.encode(), b"", partition=0)
    decisions = h.decisions()
    assert [d.outcome for d in decisions] == ["approved", "approved", "approved", "rejected"]
    assert decisions[-1].reasons == ["MESSAGING_LIMIT"]
    assert tiers.used(h.tables.limits["partition:0"], at) == 2


async def test_authentication_codes_never_appear_in_clear_in_the_decision() -> None:
    waba = "102290129340398"
    otp = TemplateStateChanged(
        waba_id=waba,
        name="login_code",
        language="en_US",
        category="AUTHENTICATION",
        status="APPROVED",
        parameters=ParameterSpec(body_count=1, buttons=(ButtonParameter(index=0, sub_type="url"),)),
    )
    h = Harness(
        PolicyConfig(default_waba_id=waba), templates={otp.key: otp.model_dump(mode="json")}
    )
    h.handlers.on_consent(_opt_in(PNID, "16505551234", NOW - H))
    components = [
        {"type": "body", "parameters": [{"type": "text", "text": "739201"}]},
        {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": "739201"}],
        },
    ]
    intent = OutboundIntentSubmitted(
        intent_id="i-1",
        phone_number_id=PNID,
        to="16505551234",
        content=TemplateContent(name="login_code", language="en_US", components=components),
    )
    await h.handlers.on_intent(intent, conversation_key(PNID, "16505551234").encode(), b"")
    emitted = [value for _, _, value in h.sent]
    assert len(emitted) == 1 and b"739201" not in emitted[0]
    decision = codec.decode(PolicyDecisionMade, emitted[0])
    assert decision.outcome == "approved" and decision.sealed
    values = Sealer([SEALING_KEY]).unseal(decision.sealed)
    assert sorted(values.values()) == ["739201", "739201"]


_SHOWN = [{"type": "body", "parameters": [{"type": "text", "text": "#42"}]}]
_MARKED = [{"type": "body", "parameters": [{"type": "text", "text": "#42", "sensitive": True}]}]


@pytest.mark.parametrize(
    ("components", "shown", "sealed"),
    [
        pytest.param(_SHOWN, _SHOWN, None, id="nothing-sensitive-shown-as-sent"),
        pytest.param(
            _MARKED,
            [{"type": "body", "parameters": [
                {"type": "text", "text": "[redacted]", "sensitive": True}]}],
            {"0.0.text": "#42"},
            id="marked-sensitive-sealed",
        ),
        pytest.param(
            [{"type": "body", "parameters": None}],
            [{"type": "body", "parameters": []}],
            None,
            id="no-parameters-shown-as-none",
        ),
    ],
)  # fmt: skip
async def test_a_utility_template_shows_its_values_unless_marked_sensitive(
    components: list[dict[str, Any]], shown: list[dict[str, Any]], sealed: dict[str, str] | None
) -> None:
    waba = "102290129340398"
    update = TemplateStateChanged(
        waba_id=waba, name="order_update", language="en_US", category="UTILITY",
        status="APPROVED",
        parameters=ParameterSpec(body_count=1 if components[0]["parameters"] else 0),
    )  # fmt: skip
    h = Harness(PolicyConfig(default_waba_id=waba), templates={update.key: update.model_dump()})
    await h.handlers.on_inbound(_inbound(NOW - H, "wamid.1"))
    h.handlers.on_consent(_opt_in(PNID, CUSTOMER, NOW - H))
    content = TemplateContent(name="order_update", language="en_US", components=components)
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=content
    )
    await h.handlers.on_intent(intent, KEY.encode(), codec.encode(intent))
    [decision] = h.decisions()
    assert decision.outcome == "approved", decision.detail
    assert decision.intent.content.components == shown  # type: ignore[union-attr]
    opened = None if decision.sealed is None else Sealer([SEALING_KEY]).unseal(decision.sealed)
    assert opened == sealed


def _otp_state(waba: str) -> TemplateStateChanged:
    return TemplateStateChanged(
        waba_id=waba, name="login_code", language="en_US", category="AUTHENTICATION",
        status="APPROVED", parameters=ParameterSpec(body_count=1),
    )  # fmt: skip


def _code(name: str = "login_code") -> TemplateContent:
    body = {"type": "body", "parameters": [{"type": "text", "text": "739201"}]}
    return TemplateContent(name=name, language="en_US", components=[body])


async def test_a_fallbacks_one_time_code_is_sealed_never_in_clear_and_the_intent_kept_whole() -> (
    None
):
    waba = "102290129340398"
    otp = _otp_state(waba)
    h = Harness(PolicyConfig(default_waba_id=waba), templates={otp.key: otp.model_dump()})
    await h.handlers.on_inbound(_inbound(NOW - H, "wamid.1"))
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=TextContent(body="hi"),
        fallback_template=_code(),
    )  # fmt: skip
    raw = codec.encode(intent)
    await h.handlers.on_intent(intent, KEY.encode(), raw)
    [(_, value)] = h.emitted("decision")
    assert b"739201" not in value  # not marked sensitive: redacted by its own category
    decision = codec.decode(PolicyDecisionMade, value)
    assert decision.outcome == "approved" and decision.intent.content == intent.content
    assert decision.resubmit is not None and decision.valid_until is not None
    assert Sealer([SEALING_KEY]).unseal(decision.resubmit) == {"intent": raw.decode()}


async def test_an_unknown_fallback_template_keeps_its_values_redacted() -> None:
    h = Harness()
    await h.handlers.on_inbound(_inbound(NOW - H, "wamid.1"))
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=TextContent(body="hi"),
        fallback_template=_code("nobody_knows"),
    )  # fmt: skip
    await h.handlers.on_intent(intent, KEY.encode(), codec.encode(intent))
    [(_, value)] = h.emitted("decision")
    assert b"739201" not in value


async def test_a_hand_back_after_131047_is_decided_afresh_as_its_sealed_fallback() -> None:
    waba = "102290129340398"
    otp = _otp_state(waba)
    h = Harness(PolicyConfig(default_waba_id=waba), templates={otp.key: otp.model_dump()})
    await h.handlers.on_inbound(_inbound(NOW - H, "wamid.1"))  # policy still sees a window
    h.handlers.on_consent(_opt_in(PNID, CUSTOMER, NOW - H))
    first = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=TextContent(body="hi"),
        fallback_template=_code(),
    )  # fmt: skip
    await h.handlers.on_intent(first, KEY.encode(), codec.encode(first))
    back = first.model_copy(update={"redecision": Redecision(count=1, reason="131047")})
    await h.handlers.on_intent(back, KEY.encode(), codec.encode(back))
    original, fresh = h.decisions()
    assert fresh.event_id != original.event_id
    assert fresh.outcome == "approved" and fresh.reasons == ["FALLBACK_TEMPLATE"]
    assert fresh.intent.content.type == "template" and fresh.intent.redecision is not None
    assert fresh.sealed is not None
    assert Sealer([SEALING_KEY]).unseal(fresh.sealed) == {"0.0.text": "739201"}
    assert b"739201" not in h.emitted("decision")[1][1]


async def test_every_stop_is_logged_and_an_approval_is_not_at_info() -> None:
    h = Harness()
    await h.handlers.on_inbound(_inbound(NOW - H, "wamid.1"))
    intent = OutboundIntentSubmitted(
        intent_id="i-1", phone_number_id=PNID, to=CUSTOMER, content=TextContent(body="hi")
    )
    late = intent.model_copy(update={"intent_id": "i-2"})
    with capture_logs() as logged:
        await h.handlers.on_intent(intent, KEY.encode(), codec.encode(intent))
        h.now = NOW + 24 * H
        await h.handlers.on_intent(late, KEY.encode(), codec.encode(late))
    decided = [e for e in logged if e["event"] == "decided" and e["log_level"] != "debug"]
    assert decided == [
        {
            "event": "decided",
            "intent_id": "i-2",
            "outcome": "rejected",
            "reasons": ["WINDOW_CLOSED"],
            "log_level": "info",
        }
    ]
