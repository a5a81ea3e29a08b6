"""The OpenAPI 3.1 document of templates' HTTP API, served at GET /openapi.json."""

from __future__ import annotations

from typing import Any

from services.templates.api_schemas import SCHEMAS, ref


def _answer(status: str, schema: str, description: str) -> dict[str, Any]:
    """One documented answer: `status` with a JSON body of the named schema."""
    content = {"application/json": {"schema": ref(schema)}}
    return {status: {"description": description, "content": content}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _parameter(
    name: str, place: str, kind: str = "string", required: bool | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {"name": name, "in": place}
    if required is not None:
        found["required"] = required
    return {**found, "schema": {"type": kind}}


PROBLEMS = {
    **_answer("401", "Problem", "Missing or unknown API key"),
    **_answer("503", "Problem", "PostgreSQL, Kafka or the Cloud API is unavailable"),
}
NOT_FOUND = _answer("404", "Problem", "No such template")
REFUSED = _answer("422", "Refused", "Broken rules, each naming its field")
BAD_REQUEST = _answer(
    "400",
    "Problem",
    "Not a strict JSON object (UTF-8, no NaN, at most 32 levels deep, no NUL or unpaired "
    "surrogate in a string), a missing field, a control character in the path or query, or "
    "a waba_id not digits",
)
BAD_PATH = _answer(
    "400", "Problem", "A control character in the path or query, or a waba_id not digits"
)
NO_ROUTE = _answer("404", "Problem", "No such path (a path value holding `{`, `}` or `/`)")
TOO_LARGE = _answer("413", "Problem", "The body is larger than the service takes (1 MiB)")
WRONG_STATUS = _answer("409", "Problem", "The template's status does not allow it")
REFUSED_BY_META = _answer("502", "Problem", "The Cloud API refused the request")
BODY = _body({"type": "object"})
WABA = [_parameter("waba_id", "path", required=True)]
NAME = [*WABA, _parameter("name", "path", required=True)]
KEY = [*NAME, _parameter("language", "path", required=True)]
LISTED = [
    *(
        _parameter(f, "query", required=False)
        for f in ("waba_id", "name", "language", "category", "status")
    ),
    _parameter("limit", "query", "integer"),
    _parameter("offset", "query", "integer"),
]


def _op(summary: str, *answers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An operation: its own answers in order, then those every operation may give (and a
    413 where it reads a body)."""
    responses: dict[str, Any] = {}
    for answer in answers:
        responses.update(answer)
    responses.setdefault("400", BAD_PATH["400"])
    responses.setdefault("404", NO_ROUTE["404"])
    if "requestBody" in extra:
        responses.update(TOO_LARGE)
    responses.update(PROBLEMS)
    return {"summary": summary, "responses": responses, **extra}


PATHS: dict[str, Any] = {
    "/v1/templates/validate": {
        "post": _op(
            "Check a template against Meta's creation rules, without storing it",
            _answer("200", "Validation", "The verdict"),
            BAD_REQUEST,
            requestBody=BODY,
        )
    },
    "/v1/templates": {
        "post": _op(
            "Create a template-language (body: Meta's creation request plus waba_id) and submit it",
            _answer("201", "Template", "Stored (and submitted unless last_error is set)"),
            _answer("409", "Problem", "It exists already"),
            BAD_REQUEST,
            REFUSED,
            requestBody=_body(ref("TemplateRequest")),
        ),
        "get": _op(
            "List templates",
            _answer("200", "TemplateList", "Matching templates"),
            BAD_REQUEST,
            parameters=LISTED,
        ),
    },
    "/v1/templates/{waba_id}/{name}/translations": {
        "post": _op(
            "Add the template in another language (same category and parameter format)",
            _answer("201", "Template", "The new language"),
            _answer("409", "Problem", "That language exists already"),
            BAD_REQUEST,
            NOT_FOUND,
            REFUSED,
            parameters=NAME,
            requestBody=BODY,
        )
    },
    "/v1/templates/{waba_id}/{name}/fallbacks": {
        "put": _op(
            "Set the ordered language fallback chain of a template",
            _answer("200", "Fallbacks", "Stored"),
            BAD_REQUEST,
            NOT_FOUND,
            REFUSED,
            parameters=NAME,
            requestBody=BODY,
        )
    },
    "/v1/templates/{waba_id}/{name}": {
        "delete": _op(
            "Delete a template in every language, or in ?language= only",
            _answer("200", "Deleted", "Deleted"),
            NOT_FOUND,
            WRONG_STATUS,
            REFUSED_BY_META,
            parameters=[*NAME, _parameter("language", "query")],
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}": {
        "get": _op(
            "One template-language",
            _answer("200", "Template", "Found"),
            NOT_FOUND,
            parameters=KEY,
        ),
        "patch": _op(
            "Edit components, category or time to live (where Meta allows it)",
            _answer("200", "Template", "Edited"),
            BAD_REQUEST,
            NOT_FOUND,
            REFUSED,
            REFUSED_BY_META,
            parameters=KEY,
            requestBody=BODY,
        ),
    },
    "/v1/templates/{waba_id}/{name}/{language}/history": {
        "get": _op(
            "Every change, oldest first",
            _answer("200", "History", "The history"),
            NOT_FOUND,
            parameters=KEY,
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}/preview": {
        "post": _op(
            "Render with sample parameters ({parameters: {header, body, buttons}})",
            _answer("200", "Rendered", "The filled template"),
            BAD_REQUEST,
            NOT_FOUND,
            REFUSED,
            parameters=KEY,
            requestBody=BODY,
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}/submit": {
        "post": _op(
            "Submit (again) to the Cloud API",
            _answer("200", "Template", "The template after submission"),
            NOT_FOUND,
            WRONG_STATUS,
            parameters=KEY,
        )
    },
    "/v1/templates/{waba_id}/{name}/{language}/unpause": {
        "post": _op(
            "Ask the Cloud API to unpause a paused template (the status follows by webhook)",
            _answer("202", "Template", "Asked; the template as it stands"),
            NOT_FOUND,
            WRONG_STATUS,
            REFUSED_BY_META,
            parameters=KEY,
        )
    },
    "/v1/sync/{waba_id}": {
        "post": _op(
            "Read every template of the account back from the Cloud API",
            _answer("200", "SyncCounts", "What changed"),
            REFUSED_BY_META,
            parameters=WABA,
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
