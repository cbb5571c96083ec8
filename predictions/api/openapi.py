"""OpenAPI post-processing of the REST API: the parts of the document that come from the ml feature schemas.

drf-spectacular documents the views it can introspect. The predict endpoint takes a different body per model, so
its generic ``/api/models/{name}/predict`` operation is replaced by one fully typed path per model, with request
and response schemas and examples generated from ``ml`` — the same definitions validation uses. This hook runs last
(settings.SPECTACULAR_SETTINGS): every operation in the document, the other protocols' included
(predictions/interop/openapi.py), then lists the error statuses it can answer with, described from the error
catalogue (predictions/http/statuses.py).
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings

import ml
from predictions.domain import selectors
from predictions.http.statuses import ERROR_SCHEMA, error_responses

PREDICT_TEMPLATE = "/api/models/{name}/predict"


def _title(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _result_schema(card: ml.ModelCard) -> dict[str, Any]:
    """Schema of one scored result: prediction (+ label and probabilities for classifiers)."""
    properties: dict[str, Any] = {}
    if card.is_classifier:
        properties["prediction"] = {"type": "integer", "enum": list(range(len(card.labels))),
                                    "description": "Class index."}
        properties["label"] = {"type": "string", "enum": list(card.labels)}
        properties["probabilities"] = {
            "type": "object",
            "properties": {label: {"type": "number", "minimum": 0, "maximum": 1} for label in card.labels},
            "required": list(card.labels),
        }
    else:
        properties["prediction"] = {"type": "number", "description": f"Predicted {card.target} "
                                                                     f"({card.target_unit})."}
    return properties


def _single_schema(card: ml.ModelCard) -> dict[str, Any]:
    result = _result_schema(card)
    required = ["id", "request_id", "model", *result, "latency_ms", "created_at"]
    return {
        "type": "object",
        "properties": {
            "id": {"type": "integer", "nullable": True,
                   "description": "History record id (null only in best_effort mode when the row was lost)."},
            "request_id": {"type": "string", "format": "uuid"},
            "model": {"$ref": "#/components/schemas/ModelRef"},
            **result,
            "latency_ms": {"type": "number"},
            "created_at": {"type": "string", "format": "date-time"},
        },
        "required": required,
    }


def _batch_schema(card: ml.ModelCard) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "index": {"type": "integer"},
            "id": {"type": "integer", "nullable": True},
            "request_id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["ok", "rejected", "error"]},
            **_result_schema(card),
            "error": {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                                       "fields": {"type": "object"}}},
        },
        "required": ["index", "id", "request_id", "status"],
    }
    return {
        "type": "object",
        "properties": {
            "batch_id": {"type": "integer", "nullable": True},
            "request_id": {"type": "string", "format": "uuid"},
            "model": {"$ref": "#/components/schemas/ModelRef"},
            "count": {"type": "integer"},
            "ok": {"type": "integer"},
            "rejected": {"type": "integer"},
            "error": {"type": "integer"},
            "latency_ms": {"type": "number"},
            "created_at": {"type": "string", "format": "date-time"},
            "predictions": {"type": "array", "items": item},
        },
        "required": ["batch_id", "request_id", "model", "count", "ok", "rejected", "error", "predictions"],
    }


def _predict_operation(card: ml.ModelCard, template: dict[str, Any]) -> dict[str, Any]:
    title = _title(card.name)
    example = card.schema.example()
    operation = copy.deepcopy(template)
    operation["operationId"] = f"predict_{card.name}"
    operation["summary"] = f"Predict with {card.name}: {card.title.lower()}"
    operation["description"] = (
        f"{card.description}\n\nSend one JSON object of features for one prediction, or a JSON array of up to "
        f"{settings.PREDICT_MAX_BATCH_ROWS} objects for a batch. A batch is all or nothing: if any row is invalid "
        "the answer is 400 with the errors keyed by row index (`\"3.carat\"`) and no row is scored; every row is "
        "recorded either way."
    )
    operation["parameters"] = [p for p in operation.get("parameters", []) if p.get("in") != "path"]
    operation["security"] = [*operation.get("security", []), {}]  # anonymous clients are welcome
    operation["requestBody"] = {
        "required": True,
        "content": {"application/json": {
            "schema": {"oneOf": [
                {"$ref": f"#/components/schemas/{title}Input"},
                {"type": "array", "items": {"$ref": f"#/components/schemas/{title}Input"}, "minItems": 1,
                 "maxItems": settings.PREDICT_MAX_BATCH_ROWS},
            ]},
            "examples": {
                "single": {"summary": "One input", "value": example},
                "batch": {"summary": "A batch of two", "value": [example, card.schema.example(derived=False)]},
            },
        }},
    }
    operation["responses"] = {
        "201": {
            "description": "Scored and recorded.",
            "content": {"application/json": {"schema": {"oneOf": [
                {"$ref": f"#/components/schemas/{title}Prediction"},
                {"$ref": f"#/components/schemas/{title}Batch"},
            ]}}},
        },
        "200": {
            "description": "A retry (same X-Request-ID, same input) of a prediction already recorded: its answer "
                         "again, header Idempotent-Replayed: true.",
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{title}Prediction"}}},
        },
        **error_responses([400, 401, 403, 404, 409, 413, 415, 429, 500, 503]),
    }
    return operation


def postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    paths = result.setdefault("paths", {})
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["ModelRef"] = {"type": "object", "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
                           "required": ["name", "version"]}
    template = paths.pop(PREDICT_TEMPLATE, {}).get("post", {"tags": ["models"]})
    for card in selectors.model_cards():
        title = _title(card.name)
        schemas[f"{title}Input"] = card.schema.json_schema() | {"example": card.schema.example()}
        schemas[f"{title}Prediction"] = _single_schema(card)
        schemas[f"{title}Batch"] = _batch_schema(card)
        paths[f"/api/models/{card.name}/predict"] = {"post": _predict_operation(card, template)}
    names = [card.name for card in selectors.model_cards()]
    for parameter in paths.get("/api/predictions/", {}).get("get", {}).get("parameters", []):
        if parameter.get("name") == "model" and names:  # the catalogue's models, as the filter accepts them
            parameter["schema"] = {"type": "string", "enum": names}
    for path_item in paths.values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    # DRF reads "?status=" as "no status filter"; say so, instead of implying a 400.
                    parameter["allowEmptyValue"] = True
            for code, response in error_responses([400, 401, 403, 404, 405, 406, 415, 429, 503]).items():
                operation["responses"].setdefault(code, response)
    return result
