"""OpenAPI post-processing: the parts of the document that come from the ml feature schemas.

drf-spectacular documents the views it can introspect. The predict endpoint takes a different body per model, so
its generic ``/api/models/{name}/predict`` operation is replaced by one fully typed path per model, with request
and response schemas and examples generated from ``ml`` — the same definitions validation uses. The legacy
endpoints (plain Django views) are described here too, as are V2 and MLflow (predictions/interop/openapi.py, in
their own protocols' error shapes); every other operation lists the error statuses it can answer with, in the one
error shape.
"""

from __future__ import annotations

import copy
from typing import Any

from django.conf import settings

import ml
from predictions.interop.openapi import interop_paths

PREDICT_TEMPLATE = "/api/models/{name}/predict"
ERROR_REF = {"$ref": "#/components/schemas/Error"}

ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
            "required": ["code", "message"],
        },
        "request_id": {"type": "string", "format": "uuid", "nullable": True},
    },
    "required": ["error", "request_id"],
}

_ERROR_TEXT = {
    "400": "Invalid input, field by field.",
    "401": "Authentication required.",
    "403": "Not allowed.",
    "404": "Unknown model, version or record.",
    "405": "Method not allowed.",
    "406": "Not acceptable.",
    "409": "X-Request-ID already used.",
    "413": "Body or batch too large.",
    "415": "Unsupported media type.",
    "429": "Throttled; see Retry-After.",
    "500": "Model failure (never caused by input; logged).",
    "503": "History store or model unavailable; see Retry-After.",
}


def _error_responses(codes: list[str]) -> dict[str, Any]:
    return {code: {"description": _ERROR_TEXT[code], "content": {"application/json": {"schema": ERROR_REF}}}
            for code in codes}


def _title(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _result_schema(spec: ml.ModelSpec) -> dict[str, Any]:
    """Schema of one scored result: prediction (+ label and probabilities for classifiers)."""
    properties: dict[str, Any] = {}
    if spec.is_classifier:
        properties["prediction"] = {"type": "integer", "enum": list(range(len(spec.labels))),
                                    "description": "Class index."}
        properties["label"] = {"type": "string", "enum": list(spec.labels)}
        properties["probabilities"] = {
            "type": "object",
            "properties": {label: {"type": "number", "minimum": 0, "maximum": 1} for label in spec.labels},
            "required": list(spec.labels),
        }
    else:
        properties["prediction"] = {"type": "number", "description": f"Predicted {spec.target} "
                                                                     f"({spec.target_unit})."}
    return properties


def _single_schema(spec: ml.ModelSpec) -> dict[str, Any]:
    result = _result_schema(spec)
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


def _batch_schema(spec: ml.ModelSpec) -> dict[str, Any]:
    item = {
        "type": "object",
        "properties": {
            "index": {"type": "integer"},
            "id": {"type": "integer", "nullable": True},
            "request_id": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["ok", "rejected", "error"]},
            **_result_schema(spec),
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


def _predict_operation(spec: ml.ModelSpec, template: dict[str, Any]) -> dict[str, Any]:
    title = _title(spec.name)
    example = spec.schema.example()
    operation = copy.deepcopy(template)
    operation["operationId"] = f"predict_{spec.name}"
    operation["summary"] = f"Predict with {spec.name}: {spec.title.lower()}"
    operation["description"] = (
        f"{spec.description}\n\nSend one JSON object of features for one prediction, or a JSON array of up to "
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
                "batch": {"summary": "A batch of two", "value": [example, spec.schema.example(derived=False)]},
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
        **_error_responses(["400", "401", "403", "404", "409", "413", "415", "429", "500", "503"]),
    }
    return operation


def _legacy_paths() -> dict[str, Any]:
    iris = ml.get_spec("iris")
    diamonds = ml.get_spec("diamonds")
    numbers = [iris.schema.feature(name) for name in iris.schema.names]
    assert len({(f.minimum, f.maximum) for f in numbers}) == 1, "the legacy array schema needs one shared range"
    query = []
    for name in ("carat", "cut", "color", "clarity", "depth", "table", "volume"):
        feature = diamonds.schema.feature(name)
        codes = diamonds.legacy_codes.get(name)
        if codes:
            schema = {"type": "integer", "minimum": 0, "maximum": len(codes) - 1}
            description = "Ordinal code: " + ", ".join(f"{i}={label}" for i, label in enumerate(codes))
        else:
            schema = feature.json_schema()
            description = schema.pop("description")
        query.append({"name": name, "in": "query", "required": True, "schema": schema, "description": description})
    return {
        "/predict": {"post": {
            "operationId": "legacy_iris_predict",
            "tags": ["legacy"],
            "summary": "Legacy iris endpoint of the original Flask app",
            "description": "Body: " + ", ".join(f.name for f in numbers) + " in cm. Answers the class index as "
                           "plain text. Recorded with channel `legacy`.",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "array", "minItems": len(numbers), "maxItems": len(numbers),
                           "items": numbers[0].json_schema() | {"description": "cm"}},
                "example": [5.9, 3.0, 5.1, 1.8],
            }}},
            "responses": {
                "200": {"description": "Class index.", "content": {"text/plain": {
                    "schema": {"type": "string", "enum": ["0", "1", "2"]}, "example": "2"}}},
                **_error_responses(["400", "409", "413", "500", "503"]),
            },
        }},
        "/api/predict": {"get": {
            "operationId": "legacy_diamonds_predict",
            "tags": ["legacy"],
            "summary": "Legacy diamonds endpoint of the original Flask app",
            "description": "Ordinal codes for cut, color and clarity (worst = 0). Recorded with channel `legacy`.",
            "parameters": query,
            "responses": {
                "200": {"description": "Predicted price in USD.", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"predicted_price": {"type": "number"}},
                               "required": ["predicted_price"]}}}},
                **_error_responses(["400", "409", "500", "503"]),
            },
        }},
    }


def postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    paths = result.setdefault("paths", {})
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    schemas["ModelRef"] = {"type": "object", "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
                           "required": ["name", "version"]}
    template = paths.pop(PREDICT_TEMPLATE, {}).get("post", {"tags": ["models"]})
    for spec in ml.SPECS.values():
        title = _title(spec.name)
        schemas[f"{title}Input"] = spec.schema.json_schema() | {"example": spec.schema.example()}
        schemas[f"{title}Prediction"] = _single_schema(spec)
        schemas[f"{title}Batch"] = _batch_schema(spec)
        paths[f"/api/models/{spec.name}/predict"] = {"post": _predict_operation(spec, template)}
    paths.update(_legacy_paths())
    paths.update(interop_paths())
    for path_item in paths.values():
        for operation in path_item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    # DRF reads "?status=" as "no status filter"; say so, instead of implying a 400.
                    parameter["allowEmptyValue"] = True
            codes = ["400", "401", "403", "404", "405", "406", "415", "429", "503"]
            for code, response in _error_responses(codes).items():
                operation["responses"].setdefault(code, response)
    return result
