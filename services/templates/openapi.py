"""The OpenAPI 3.1 document of templates' HTTP API, served at GET /openapi.json."""

from __future__ import annotations

from typing import Any

from services.templates.api_schemas import SCHEMAS
from services.templates.api_schemas import ref as _ref


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


PROBLEMS = {
    "401": _json(_ref("Problem"), "Missing or unknown API key"),
    "503": _json(_ref("Problem"), "PostgreSQL, Kafka or the Cloud API is unavailable"),
}
NOT_FOUND = {"404": _json(_ref("Problem"), "No such template")}
REFUSED = {"422": _json(_ref("Refused"), "Broken rules, each naming its field")}
BAD_REQUEST = {"400": _json(_ref("Problem"), "Not a JSON object or a missing field")}
WRONG_STATUS = {"409": _json(_ref("Problem"), "The template's status does not allow it")}
REFUSED_BY_META = {"502": _json(_ref("Problem"), "The Cloud API refused the request")}
BODY = {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


KEY = [_path("waba_id"), _path("name"), _path("language")]
NAME = [_path("waba_id"), _path("name")]


def _op(summary: str, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "responses": {**responses, **PROBLEMS}, **extra}


PATHS: dict[str, Any] = {
    "/v1/templates/validate": {
        "post": _op(
            "Check a template against Meta's creation rules, without storing it",
            {"200": _json(_ref("Validation"), "The verdict"), **BAD_REQUEST},
            requestBody=BODY,
        )
    },
    "/v1/templates": {
        "post": _op(
            "Create a template-language (body: Meta's creation request plus waba_id) and submit it",
            {
                "201": _json(_ref("Template"), "Stored (and submitted unless last_error is set)"),
                "409": _json(_ref("Problem"), "It exists already"),
                **BAD_REQUEST,
                **REFUSED,
            },
            requestBody={
                "required": True,
                "content": {"application/json": {"schema": _ref("TemplateRequest")}},
            },
        ),
        "get": _op(
            "List templates",
            {"200": _json(_ref("TemplateList"), "Matching templates"), **BAD_REQUEST},
            parameters=[
                *(
                    {"name": f, "in": "query", "required": False, "schema": {"type": "string"}}
                    for f in ("waba_id", "name", "language", "category", "status")
                ),
                {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                {"name": "offset", "in": "query", "schema": {"type": "integer"}},
            ],
        ),
    },
    "/v1/templates/{waba_id}/{name}/translations": {
        "post": _op(
            "Add the template in another language (same category and parameter format)",
            {
                "201": _json(_ref("Template"), "The new language"),
                "409": _json(_ref("Problem"), "That language exists already"),
                **BAD_REQUEST,
                **NOT_FOUND,
                **REFUSED,
            },
            parameters=NAME,
            requestBody=BODY,
        )
    },
    "/v1/templates/{waba_id}/{name}/fallbacks": {
        "put": _op(
            "Set the ordered language fallback chain of a template",
            {"200": _json(_ref("Fallbacks"), "Stored"), **BAD_REQUEST, **NOT_FOUND, **REFUSED},
            parameters=NAME,
            requestBody=BODY,
        )
    },
    "/v1/templates/{waba_id}/{name}": {
        "delete": _op(
            "Delete a template in every language, or in ?language= only",
            {
                "200": _json(_ref("Deleted"), "Deleted"),
                **NOT_FOUND,
                **WRONG_STATUS,
                **REFUSED_BY_META,
            },
            parameters=[*NAME, {"name": "language", "in": "query", "schema": {"type": "string"}}],
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}": {
        "get": _op(
            "One template-language",
            {"200": _json(_ref("Template"), "Found"), **NOT_FOUND},
            parameters=KEY,
        ),
        "patch": _op(
            "Edit components, category or time to live (where Meta allows it)",
            {
                "200": _json(_ref("Template"), "Edited"),
                **BAD_REQUEST,
                **NOT_FOUND,
                **REFUSED,
                **REFUSED_BY_META,
            },
            parameters=KEY,
            requestBody=BODY,
        ),
    },
    "/v1/templates/{waba_id}/{name}/{language}/history": {
        "get": _op(
            "Every change, oldest first",
            {"200": _json(_ref("History"), "The history"), **NOT_FOUND},
            parameters=KEY,
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}/preview": {
        "post": _op(
            "Render with sample parameters ({parameters: {header, body, buttons}})",
            {
                "200": _json(_ref("Rendered"), "The filled template"),
                **BAD_REQUEST,
                **NOT_FOUND,
                **REFUSED,
            },
            parameters=KEY,
            requestBody=BODY,
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}/submit": {
        "post": _op(
            "Submit (again) to the Cloud API",
            {
                "200": _json(_ref("Template"), "The template after submission"),
                **NOT_FOUND,
                **WRONG_STATUS,
            },
            parameters=KEY,
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}/unpause": {
        "post": _op(
            "Ask the Cloud API to unpause a paused template (the status follows by webhook)",
            {
                "202": _json(_ref("Template"), "Asked; the template as it stands"),
                **NOT_FOUND,
                **WRONG_STATUS,
                **REFUSED_BY_META,
            },
            parameters=KEY,
        )
    },
    "/v1/sync/{waba_id}": {
        "post": _op(
            "Read every template of the account back from the Cloud API",
            {"200": _json(_ref("SyncCounts"), "What changed"), **REFUSED_BY_META},
            parameters=[_path("waba_id")],
        )
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "wagate templates", "version": "1.0.0"},
    "security": [{"bearer": []}],
    "paths": PATHS,
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    },
}
