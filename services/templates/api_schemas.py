"""JSON Schemas of the templates API's bodies, referenced by the OpenAPI document."""

from __future__ import annotations

from typing import Any


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str) -> dict[str, Any]:
    return {"type": [kind, "null"]}


TEMPLATE_REQUEST = {
    "type": "object",
    "description": "Meta's creation request (POST /{waba-id}/message_templates) plus waba_id.",
    "required": ["waba_id", "name", "language", "category", "components"],
    "properties": {
        "waba_id": {"type": "string", "pattern": "^[0-9]+$"},
        "name": {"type": "string", "maxLength": 512},
        "language": {"type": "string"},
        "category": {"type": "string"},
        "parameter_format": {"enum": ["named", "positional", "NAMED", "POSITIONAL"]},
        "message_send_ttl_seconds": {"type": "integer"},
        "components": {"type": "array", "items": {"type": "object"}},
    },
}
SCHEMAS: dict[str, Any] = {
    "TemplateRequest": TEMPLATE_REQUEST,
    "Problem": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Issue": {
        "type": "object",
        "required": ["field", "code", "message", "severity"],
        "additionalProperties": False,
        "properties": {
            "field": {"type": "string"},
            "code": {"type": "string"},
            "message": {"type": "string"},
            "severity": {"enum": ["error", "warning"]},
        },
    },
    "Refused": {
        "type": "object",
        "required": ["errors", "warnings"],
        "properties": {
            "errors": {"type": "array", "minItems": 1, "items": ref("Issue")},
            "warnings": {"type": "array", "items": ref("Issue")},
        },
    },
    "Validation": {
        "type": "object",
        "required": ["valid", "errors", "warnings"],
        "properties": {
            "valid": {"type": "boolean"},
            "errors": {"type": "array", "items": ref("Issue")},
            "warnings": {"type": "array", "items": ref("Issue")},
        },
    },
    "Template": {
        "type": "object",
        "additionalProperties": False,
        "required": ["waba_id", "name", "language", "category", "status", "components", "version"],
        "properties": {
            "waba_id": {"type": "string"},
            "name": {"type": "string", "pattern": "^[a-z0-9_]+$"},
            "language": {"type": "string"},
            "category": {"enum": ["MARKETING", "UTILITY", "AUTHENTICATION"]},
            "parameter_format": {"enum": ["positional", "named"]},
            "components": {"type": "array", "items": {"type": "object"}},
            "message_send_ttl_seconds": _nullable("integer"),
            "meta_id": _nullable("string"),
            "status": {"type": "string"},
            "quality": _nullable("string"),
            "rejected_reason": _nullable("string"),
            "correct_category": _nullable("string"),
            "warnings": {"type": "array", "items": ref("Issue")},
            "last_error": _nullable("string"),
            "version": {"type": "integer", "minimum": 1},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "TemplateList": {
        "type": "object",
        "required": ["templates"],
        "properties": {"templates": {"type": "array", "items": ref("Template")}},
    },
    "Deleted": {
        "type": "object",
        "required": ["deleted"],
        "properties": {"deleted": {"type": "array", "items": ref("Template")}},
    },
    "History": {
        "type": "object",
        "required": ["history"],
        "properties": {
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["change", "version", "snapshot", "changed_at"],
                    "properties": {
                        "change": {"type": "string"},
                        "version": {"type": "integer"},
                        "cause": _nullable("string"),
                        "snapshot": {"type": "object"},
                        "changed_at": {"type": "string", "format": "date-time"},
                    },
                },
            }
        },
    },
    "Rendered": {
        "type": "object",
        "required": ["header", "header_kind", "body", "footer", "buttons", "components"],
        "properties": {
            "header": _nullable("string"),
            "header_kind": {"enum": ["none", "text", "image", "video", "document", "location"]},
            "body": {"type": "string"},
            "footer": _nullable("string"),
            "buttons": {"type": "array", "items": {"type": "object"}},
            "components": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Fallbacks": {
        "type": "object",
        "required": ["languages"],
        "properties": {"languages": {"type": "array", "items": {"type": "string"}}},
    },
    "SyncCounts": {
        "type": "object",
        "required": ["added", "changed", "missing"],
        "properties": {k: {"type": "integer"} for k in ("added", "changed", "missing")},
    },
}
