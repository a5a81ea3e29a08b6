"""The OpenAPI document describes exactly the routes the service serves, and is valid."""

from __future__ import annotations

import jsonschema
from aiohttp import web
from pydantic import SecretStr

from services.templates import web as templates_web
from services.templates.handlers import Registry
from services.templates.openapi import DOCUMENT


def test_every_route_is_documented_and_every_documented_route_served() -> None:
    app = web.Application()
    templates_web.add_routes(app, object.__new__(Registry), [SecretStr("k")])
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/v1/")
        and route.method != "HEAD"  # aiohttp adds one per GET
    }
    documented = {(m, path) for path, ops in DOCUMENT["paths"].items() for m in ops}
    assert served == documented


def test_the_schemas_are_valid_json_schema() -> None:
    for schema in DOCUMENT["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for path, operations in DOCUMENT["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"], (method, path)
            assert "401" in operation["responses"] and "503" in operation["responses"]
