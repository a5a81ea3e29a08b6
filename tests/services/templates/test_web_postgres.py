"""The HTTP API on a real PostgreSQL against a local fake Cloud API; every response is checked
against the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest

from tests.services.templates.builders import body
from tests.services.templates.conftest import BODY_ROUTES, KEY, WABA, Service, shipping

pytestmark = pytest.mark.postgres


async def test_an_api_key_is_required(service: Service) -> None:
    status, answer = await service.call("GET", "/v1/templates", key=None)
    assert status == 401 and answer["error"]["code"] == "UNAUTHORIZED"
    status, _ = await service.call("GET", "/v1/templates", key="wrong")
    assert status == 401
    status, _ = await service.call("GET", "/v1/templates")
    assert status == 200


async def test_the_openapi_document_is_served_without_a_key(service: Service) -> None:
    async with service.client.get("/openapi.json") as resp:
        document = await resp.json()
    assert resp.status == 200 and document["openapi"] == "3.1.0"
    assert "/v1/templates/{waba_id}/{name}/{language}/preview" in document["paths"]


async def test_create_submits_stores_and_publishes(service: Service) -> None:
    status, created = await service.call("POST", "/v1/templates", shipping())
    assert status == 201
    assert created["status"] == "PENDING" and created["meta_id"] == "1001"
    kind, waba, request = service.meta.requests[0]
    assert (kind, waba, request["name"], request["parameter_format"]) == (
        "create",
        WABA,
        "shipping_update",
        "positional",
    )
    states = service.states()
    assert [s.status for s in states] == ["DRAFT", "PENDING"]
    assert states[-1].parameters.body_count == 2 and states[-1].parameters.header_count == 1
    assert [(b.index, b.sub_type) for b in states[-1].parameters.buttons] == [(1, "url")]
    assert service.published.sent[-1][2] == f"{WABA}:shipping_update:en_US"
    status, again = await service.call("POST", "/v1/templates", shipping())
    assert status == 409 and again["error"]["code"] == "ALREADY_EXISTS"


async def test_an_invalid_template_is_refused_with_its_fields(service: Service) -> None:
    bad = shipping(name="Bad-Name", components=[body("{{1}} is here, ok.", "x")])
    status, answer = await service.call("POST", "/v1/templates", bad)
    assert status == 422
    assert {(e["field"], e["code"]) for e in answer["errors"]} == {
        ("name", "INVALID_NAME"),
        ("components[0].text", "VARIABLE_AT_START"),
    }
    assert service.meta.requests == [] and service.published.sent == []


async def test_validate_only(service: Service) -> None:
    promo = shipping(components=[body("Your order {{1}} shipped. Enjoy 10% off next time!", "1")])
    status, answer = await service.call("POST", "/v1/templates/validate", promo)
    assert status == 200 and answer["valid"] is True
    assert answer["warnings"][0]["code"] == "PROMOTIONAL_UTILITY"
    status, answer = await service.call("POST", "/v1/templates/validate", [1, 2])  # type: ignore[arg-type]
    assert status == 400


async def test_a_refusal_by_meta_is_kept_and_can_be_resubmitted(service: Service) -> None:
    service.meta.refuse = {"code": 100, "message": "Invalid parameter"}
    status, created = await service.call("POST", "/v1/templates", shipping())
    assert status == 201 and created["status"] == "DRAFT"
    assert "Invalid parameter" in created["last_error"]
    path = "/v1/templates/{waba_id}/{name}/{language}/submit"
    status, submitted = await service.call(
        "POST", path, waba_id=WABA, name="shipping_update", language="en_US"
    )
    assert status == 200 and submitted["status"] == "PENDING" and submitted["last_error"] is None
    status, again = await service.call(
        "POST", path, waba_id=WABA, name="shipping_update", language="en_US"
    )
    assert status == 409 and again["error"]["code"] == "WRONG_STATUS"
    assert len(service.meta.templates) == 1


async def test_list_get_translate_and_history(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    spanish = {"language": "es", "components": [body("Hola {{1}}, tu pedido {{2}} fue enviado.")]}
    path = "/v1/templates/{waba_id}/{name}/translations"
    status, es = await service.call("POST", path, spanish, waba_id=WABA, name="shipping_update")
    assert status == 201 and es["language"] == "es" and es["category"] == "UTILITY"
    status, _ = await service.call("POST", path, spanish, waba_id=WABA, name="nothing")
    assert status == 404
    status, listed = await service.call("GET", "/v1/templates?waba_id=" + WABA)
    assert [t["language"] for t in listed["templates"]] == ["en_US", "es"]
    status, listed = await service.call("GET", "/v1/templates?language=es&status=PENDING")
    assert [t["language"] for t in listed["templates"]] == ["es"]
    one = "/v1/templates/{waba_id}/{name}/{language}"
    status, got = await service.call(
        "GET", one, waba_id=WABA, name="shipping_update", language="es"
    )
    assert status == 200 and got["meta_id"] == "1002"
    status, _ = await service.call("GET", one, waba_id=WABA, name="shipping_update", language="fr")
    assert status == 404
    status, history = await service.call(
        "GET", one + "/history", waba_id=WABA, name="shipping_update", language="es"
    )
    assert [h["change"] for h in history["history"]] == ["created", "submitted"]
    assert history["history"][-1]["snapshot"]["status"] == "PENDING"


async def test_preview_renders_and_names_missing_parameters(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    path = "/v1/templates/{waba_id}/{name}/{language}/preview"
    sample = {"parameters": {"header": ["A1"], "body": ["Ana", "A1"], "buttons": {"1": "A1"}}}
    where = {"waba_id": WABA, "name": "shipping_update", "language": "en_US"}
    status, rendered = await service.call("POST", path, sample, **where)
    assert status == 200 and rendered["body"] == "Hello Ana, your order A1 has shipped."
    status, refused = await service.call("POST", path, {"parameters": {"body": ["Ana"]}}, **where)
    assert status == 422
    assert {e["field"] for e in refused["errors"]} == {
        "parameters.header[0]",
        "parameters.body[1]",
        "parameters.buttons.1",
    }


async def test_edit_and_its_limits(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    one = "/v1/templates/{waba_id}/{name}/{language}"
    where = {"waba_id": WABA, "name": "shipping_update", "language": "en_US"}
    new = {"components": [body("Hi {{1}}, order {{2}} is on its way now.")]}
    status, refused = await service.call("PATCH", one, new, **where)
    assert status == 422 and refused["errors"][0]["code"] == "NOT_EDITABLE"  # PENDING
    await _set_status(service, "APPROVED")
    status, refused = await service.call("PATCH", one, {**new, "category": "MARKETING"}, **where)
    assert status == 422 and refused["errors"][0]["code"] == "CATEGORY_LOCKED"
    status, bad = await service.call("PATCH", one, {"components": []}, **where)
    assert status == 422 and bad["errors"][0]["code"] == "COMPONENTS_REQUIRED"
    status, edited = await service.call("PATCH", one, new, **where)
    assert status == 200 and edited["status"] == "PENDING"
    assert service.meta.requests[-1] == ("edit", "1001", new)
    await _set_status(service, "APPROVED")
    status, refused = await service.call("PATCH", one, new, **where)
    assert status == 422 and refused["errors"][0]["code"] == "EDIT_LIMIT"


async def _set_status(service: Service, status: str) -> None:
    store = service.registry.store
    [row] = await store.find({"name": "shipping_update"})
    await store.change(row.key, lambda _: {"status": status}, "test", "test")


async def test_delete_one_language_then_all(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    spanish = {"language": "es", "components": [body("Hola {{1}}, tu pedido {{2}} fue enviado.")]}
    await service.call(
        "POST",
        "/v1/templates/{waba_id}/{name}/translations",
        spanish,
        waba_id=WABA,
        name="shipping_update",
    )
    path = "/v1/templates/{waba_id}/{name}"
    status, gone = await service.call(
        "DELETE", path + "?language=es", waba_id=WABA, name="shipping_update"
    )
    assert status == 200 and [t["language"] for t in gone["deleted"]] == ["es"]
    assert service.meta.requests[-1] == ("delete", "shipping_update", "1002")
    status, gone = await service.call("DELETE", path, waba_id=WABA, name="shipping_update")
    assert [t["status"] for t in gone["deleted"]] == ["DELETED"]
    assert service.meta.requests[-1] == ("delete", "shipping_update", None)
    assert service.states()[-1].status == "DELETED"
    status, _ = await service.call("DELETE", path, waba_id=WABA, name="shipping_update")
    assert status == 404
    status, refused = await service.call("POST", "/v1/templates", shipping())
    assert status == 422 and refused["errors"][0]["code"] == "NAME_RECENTLY_DELETED"


async def test_sync_reads_back_and_corrects(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    for name, text in (
        ("second_one", "Hi {{1}}, parcel {{2}} left."),
        ("third_one", "Hi {{1}}, box {{2}} left."),
    ):
        status, _ = await service.call(
            "POST", "/v1/templates", shipping(name=name, components=[body(text)])
        )
        assert status == 201
    meta = service.meta.templates
    meta["1001"].update(status="APPROVED", quality_score={"score": "GREEN"})
    meta["1002"].update(status="REJECTED", rejected_reason="INVALID_FORMAT")
    del meta["1003"]
    meta["7"] = {**shipping(name="made_elsewhere"), "id": "7", "status": "APPROVED"}
    status, dup = await service.call("POST", "/v1/templates", shipping(name="fourth_one"))
    assert status == 422 and dup["errors"][0]["code"] == "DUPLICATE_CONTENT"
    status, counts = await service.call("POST", "/v1/sync/{waba_id}", waba_id=WABA)
    assert status == 200 and counts == {"added": 1, "changed": 2, "missing": 1}
    status, listed = await service.call("GET", "/v1/templates")
    by_name = {t["name"]: t for t in listed["templates"]}
    assert by_name["shipping_update"]["quality"] == "GREEN"
    assert by_name["second_one"]["rejected_reason"] == "INVALID_FORMAT"
    assert by_name["third_one"]["status"] == "PENDING"  # missing from a listing: kept
    assert by_name["made_elsewhere"]["meta_id"] == "7"
    status, counts = await service.call("POST", "/v1/sync/{waba_id}", waba_id=WABA)
    assert counts == {"added": 0, "changed": 0, "missing": 1}


async def test_cloud_api_down_answers_503_on_sync(service: Service) -> None:
    service.meta.down = True
    status, answer = await service.call("POST", "/v1/sync/{waba_id}", waba_id=WABA)
    assert status == 503 and answer["error"]["code"] == "UNAVAILABLE"


async def test_fallbacks_are_published_with_the_state(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping(language="pt_BR"))
    path = "/v1/templates/{waba_id}/{name}/fallbacks"
    langs = {"languages": ["pt_BR", "pt", "en"]}
    status, answer = await service.call("PUT", path, langs, waba_id=WABA, name="shipping_update")
    assert status == 200 and answer == langs
    assert service.states()[-1].fallback_languages == ("pt", "en")
    status, _ = await service.call(
        "PUT", path, {"languages": ["pt-BR"]}, waba_id=WABA, name="shipping_update"
    )
    assert status == 422


HOSTILE: list[Any] = [
    None,
    [],
    "text",
    17,
    {},
    {"waba_id": WABA},
    {"waba_id": 5, "name": None},
    {"waba_id": WABA, "name": "x", "language": "en", "category": "UTILITY", "components": "x"},
    {"waba_id": WABA, "components": [None, 1, "BODY", {"type": None}]},
    {"language": "es", "components": [{"type": "BODY", "text": {"a": 1}}]},
    {"parameters": [1, 2]},
    {"parameters": {"body": {"1": None}, "header": "x", "buttons": [1]}},
    {"languages": "en"},
    {"languages": [1]},
    {"category": ["x"], "components": {"type": "BODY"}},
]


async def test_hostile_bodies_never_get_a_5xx(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    where = {"waba_id": WABA, "name": "shipping_update", "language": "en_US"}
    for method, path in BODY_ROUTES:
        for hostile in HOSTILE:
            status, _ = await service.call(method, path, hostile, **where)
            assert status < 500, (method, path, hostile)
    async with service.client.post(
        "/v1/templates", data=b"{not json", headers={"Authorization": f"Bearer {KEY}"}
    ) as resp:
        assert resp.status == 400


async def test_unpause_asks_meta_only_for_a_paused_template(service: Service) -> None:
    await service.call("POST", "/v1/templates", shipping())
    path = "/v1/templates/{waba_id}/{name}/{language}/unpause"
    where = {"waba_id": WABA, "name": "shipping_update", "language": "en_US"}
    status, wrong = await service.call("POST", path, **where)
    assert status == 409 and wrong["error"]["code"] == "WRONG_STATUS"
    await _set_status(service, "PAUSED")
    status, answer = await service.call("POST", path, **where)
    assert status == 202 and answer["status"] == "PAUSED"
    assert service.meta.requests[-1] == ("unpause", "1001", None)
