"""Keeping the registry and its topic right, on a real PostgreSQL against a local fake Cloud
API: seeding, syncing every account, republishing and the repairs."""

from __future__ import annotations

import pytest

from services.templates import sync
from services.templates.records import Key
from services.templates.starter import starter_templates
from tests.services.templates.conftest import WABA, Service, shipping

pytestmark = pytest.mark.postgres
SHIPPING = Key(WABA, "shipping_update", "en_US")


async def test_the_starter_library_is_seeded_once(service: Service) -> None:
    library = starter_templates()
    assert await sync.seed(service.registry, WABA, library) == len(library) == 18
    assert await sync.seed(service.registry, WABA, library) == 0
    status, listed = await service.call("GET", "/v1/templates?status=PENDING&limit=50")
    assert status == 200 and len(listed["templates"]) == 18


async def test_a_starter_template_the_rules_refuse_is_left_out(service: Service) -> None:
    assert await sync.seed(service.registry, WABA, [shipping(name="Bad-Name")]) == 0
    assert await service.registry.store.find() == []


async def test_states_lost_to_a_broker_outage_are_published_by_the_repair(
    service: Service,
) -> None:
    service.published.broker_down = True
    status, created = await service.call("POST", "/v1/templates", shipping())
    assert status == 201 and created["status"] == "PENDING"
    assert service.states() == []
    service.published.broker_down = False
    assert await sync.republish_pending(service.registry) == 1
    [state] = service.states()
    assert (state.status, state.version) == ("PENDING", created["version"])
    assert await sync.republish_pending(service.registry) == 0


async def test_drafts_the_cloud_api_could_not_take_are_submitted_by_the_repair(
    service: Service,
) -> None:
    service.meta.down = True
    status, created = await service.call("POST", "/v1/templates", shipping())
    assert status == 201 and created["status"] == "DRAFT"
    assert created["last_error"].startswith("unavailable: ")
    assert await sync.resubmit_unreached(service.registry) == 0  # still down
    service.meta.down = False
    assert await sync.resubmit_unreached(service.registry) == 1
    assert await sync.resubmit_unreached(service.registry) == 0
    one = "/v1/templates/{waba_id}/{name}/{language}"
    _, got = await service.call("GET", one, waba_id=WABA, name="shipping_update", language="en_US")
    assert got["status"] == "PENDING" and got["last_error"] is None


async def test_every_state_is_republished_page_by_page(service: Service) -> None:
    await sync.seed(service.registry, WABA, starter_templates())
    service.published.sent.clear()
    assert await sync.republish_all(service.registry, page=5) == 18
    assert len({s.key for s in service.states()}) == 18


async def test_a_template_deleted_here_but_alive_at_meta_is_brought_back(
    service: Service,
) -> None:
    await service.registry.create(WABA, shipping())
    await service.registry.store.change(SHIPPING, lambda _: {"status": "DELETED"}, "t", "t")
    assert await sync.sync(service.registry, WABA) == {"added": 1, "changed": 0, "missing": 0}
    stored = await service.registry.store.get(SHIPPING)
    assert stored is not None and (stored.status, stored.meta_id) == ("PENDING", "1001")
    assert service.states()[-1].status == "PENDING"


async def test_syncing_every_account_outlives_an_unreachable_cloud_api(service: Service) -> None:
    await service.registry.create(WABA, shipping())
    service.meta.templates["1001"]["status"] = "APPROVED"
    service.meta.down = True
    await sync.sync_all(service.registry)
    stored = await service.registry.store.get(SHIPPING)
    assert stored is not None and stored.status == "PENDING"
    service.meta.down = False
    await sync.sync_all(service.registry)
    stored = await service.registry.store.get(SHIPPING)
    assert stored is not None and stored.status == "APPROVED"


async def test_a_cloud_api_that_forgot_its_templates_deletes_nothing(service: Service) -> None:
    # A sandbox restarted without its state, or a listing cut short: no deletion event came.
    await sync.seed(service.registry, WABA, starter_templates())
    service.meta.templates.clear()
    counts = await sync.sync(service.registry, WABA)
    assert counts == {"added": 0, "changed": 0, "missing": 18}
    stored = await service.registry.store.find({"waba_id": WABA})
    assert len(stored) == 18 and {t.status for t in stored} == {"PENDING"}
    assert "DELETED" not in {s.status for s in service.states()}
