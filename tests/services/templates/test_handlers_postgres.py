"""The registry's I/O shell on a real PostgreSQL, a local fake Cloud API and a publisher that
keeps what it was given: checks -> store -> Cloud API -> the template's state."""

from __future__ import annotations

from typing import Any

import pytest

from services.templates.errors import NotFound, WrongState
from services.templates.handlers import UNREACHED
from services.templates.records import Key
from shared.events.templates import TemplateUpdateReported
from tests.services.templates.builders import body
from tests.services.templates.conftest import NOW, WABA, Service, shipping

pytestmark = pytest.mark.postgres
SHIPPING = Key(WABA, "shipping_update", "en_US")


def _update(**fields: Any) -> TemplateUpdateReported:
    return TemplateUpdateReported(kind="status", waba_id=WABA, **fields)


async def test_a_webhook_update_changes_the_template_and_its_state_names_the_cause(
    service: Service,
) -> None:
    created, _ = await service.registry.create(WABA, shipping())
    assert created is not None and created.meta_id == "1001"
    update = _update(template_id="1001", event="APPROVED", reported_at=NOW)
    await service.registry.on_update(update, None)  # type: ignore[arg-type]
    stored = await service.registry.store.get(SHIPPING)
    assert stored is not None
    assert (stored.status, stored.version) == ("APPROVED", created.version + 1)
    state = service.states()[-1]
    assert (state.status, state.version) == ("APPROVED", stored.version)
    assert (state.causation_id, state.correlation_id) == (update.event_id, update.event_id)
    published = len(service.published.sent)
    await service.registry.on_update(update, None)  # type: ignore[arg-type]
    assert len(service.published.sent) == published


async def test_an_update_finds_an_unsubmitted_template_by_name_and_language(
    service: Service,
) -> None:
    service.meta.down = True
    created, _ = await service.registry.create(WABA, shipping())
    assert created is not None and created.meta_id is None
    update = _update(
        template_id="555", template_name="shipping_update", language="en_US", event="APPROVED"
    )
    await service.registry.on_update(update, None)  # type: ignore[arg-type]
    stored = await service.registry.store.get(SHIPPING)
    assert stored is not None and (stored.status, stored.meta_id) == ("APPROVED", "555")


async def test_an_update_for_a_template_the_registry_does_not_hold_is_ignored(
    service: Service,
) -> None:
    await service.registry.on_update(_update(template_id="404", event="APPROVED"), None)  # type: ignore[arg-type]
    assert service.published.sent == []
    assert await service.registry.store.find() == []


async def test_only_a_submission_the_cloud_api_could_not_reach_is_marked_for_a_retry(
    service: Service,
) -> None:
    service.meta.refuse = {"code": 100, "message": "Invalid parameter"}
    refused, _ = await service.registry.create(WABA, shipping())
    service.meta.down = True
    unreached, _ = await service.registry.create(
        WABA, shipping(name="second_one", components=[body("Hi {{1}}, parcel {{2}} left.")])
    )
    assert refused is not None and unreached is not None
    assert refused.status == unreached.status == "DRAFT"
    assert refused.last_error == "Cloud API error 100 (HTTP 400): Invalid parameter"
    assert unreached.last_error is not None and unreached.last_error.startswith(UNREACHED)
    retried = await service.registry.store.drafts_failed_with(UNREACHED)
    assert [r.name for r in retried] == ["second_one"]


async def test_the_account_cap_refuses_before_anything_is_stored(service: Service) -> None:
    service.registry.template_limit = 1
    first, _ = await service.registry.create(WABA, shipping())
    assert first is not None
    second, verdict = await service.registry.create(
        WABA, shipping(name="second_one", components=[body("Hi {{1}}, parcel {{2}} left.")])
    )
    assert second is None and [e.code for e in verdict.errors] == ["TEMPLATE_LIMIT"]
    assert [r.name for r in await service.registry.store.find()] == ["shipping_update"]
    assert len(service.meta.requests) == 1


async def test_a_draft_is_edited_here_alone(service: Service) -> None:
    service.meta.down = True
    await service.registry.create(WABA, shipping())
    service.meta.down = False
    new = {"components": [body("Hi {{1}}, order {{2}} is on its way now.")]}
    edited, verdict = await service.registry.edit(SHIPPING, new)
    assert verdict.ok and edited is not None
    assert edited.status == "DRAFT" and edited.components == new["components"]
    assert service.meta.requests == []
    assert service.states()[-1].version == edited.version


async def test_translations_need_a_live_template_of_that_name(service: Service) -> None:
    spanish = {"language": "es", "components": [body("Hola {{1}}, tu pedido {{2}} fue enviado.")]}
    with pytest.raises(NotFound):
        await service.registry.translate(WABA, "shipping_update", spanish)
    await service.registry.create(WABA, shipping())
    await service.registry.delete(WABA, "shipping_update", None)
    with pytest.raises(NotFound):
        await service.registry.translate(WABA, "shipping_update", spanish)


async def test_a_disabled_template_is_not_deleted(service: Service) -> None:
    await service.registry.create(WABA, shipping())
    await service.registry.store.change(SHIPPING, lambda _: {"status": "DISABLED"}, "t", "t")
    with pytest.raises(WrongState):
        await service.registry.delete(WABA, "shipping_update", None)
    assert [kind for kind, *_ in service.meta.requests] == ["create"]


async def test_an_unsubmitted_template_is_deleted_here_alone(service: Service) -> None:
    service.meta.down = True
    await service.registry.create(WABA, shipping())
    service.meta.down = False
    [deleted] = await service.registry.delete(WABA, "shipping_update", "en_US")
    assert deleted.status == "DELETED" and service.meta.requests == []
    assert service.states()[-1].status == "DELETED"


async def test_fallbacks_need_language_codes_and_a_stored_name(service: Service) -> None:
    verdict = await service.registry.set_fallbacks(WABA, "shipping_update", ["pt-BR", "en"])
    assert [(e.field, e.code) for e in verdict.errors] == [("languages", "INVALID_LANGUAGE")]
    with pytest.raises(NotFound):
        await service.registry.set_fallbacks(WABA, "shipping_update", ["pt_BR", "en"])
