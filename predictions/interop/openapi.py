"""OpenAPI descriptions of the other protocols, added to /api/schema/ by the drf-spectacular hook ``postprocess``.

V2 (`POST /v2/models/<name>/infer`) and MLflow (`POST /mlflow/<name>/invocations`) are plain Django views with
their own protocols' error shapes, the legacy endpoints answer in the REST shape; describing them here puts them in
the API docs and in front of the schemathesis fuzzer with everything else. One path per model, with an example built
from the model's feature schema; statuses described from the error catalogue (predictions/http/statuses.py).
"""

from __future__ import annotations

from typing import Any

import ml
from predictions.domain import selectors
from predictions.http.statuses import error_responses
from predictions.interop.tensors import DATATYPES

V2_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
MLFLOW_ERROR = {"type": "object", "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
                "required": ["error_code", "message"]}
PROTOCOL_STATUSES = [400, 401, 404, 405, 409, 413, 415, 429, 503]  # what V2 and MLflow answer with

TENSOR = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
        "datatype": {"type": "string", "enum": list(DATATYPES)},
        "parameters": {"type": "object"},
        "data": {"type": "array"},
    },
    "required": ["name", "shape", "datatype"],
}
V2_REQUEST = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "parameters": {"type": "object"},
        "inputs": {"type": "array", "items": TENSOR},
        "outputs": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}, "parameters": {"type": "object"}}, "required": ["name"]}},
    },
    "required": ["inputs"],
}
V2_RESPONSE = {
    "type": "object",
    "properties": {
        "model_name": {"type": "string"},
        "model_version": {"type": "string"},
        "id": {"type": "string"},
        "parameters": {"type": "object"},
        "outputs": {"type": "array", "items": TENSOR},
    },
    "required": ["model_name", "model_version", "outputs"],
}
MLFLOW_REQUEST = {
    "type": "object",
    "description": "One of dataframe_split, dataframe_records, instances or inputs.",
    "properties": {
        "dataframe_split": {"type": "object", "properties": {
            "columns": {"type": "array", "items": {"type": "string"}}, "data": {"type": "array"}}},
        "dataframe_records": {"type": "array", "items": {"type": "object"}},
        "instances": {"type": "array"},
        "inputs": {},
    },
}


def _v2_example(card: ml.ModelCard) -> dict[str, Any]:
    row = card.schema.example()
    return {"inputs": [{"name": name, "shape": [1],
                        "datatype": "FP64" if isinstance(value, (int, float)) else "BYTES", "data": [value]}
                       for name, value in row.items()]}


def interop_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for card in selectors.model_cards():
        paths[f"/v2/models/{card.name}/infer"] = {"post": {
            "operationId": f"v2_{card.name}_infer",
            "tags": ["v2"],
            "summary": f"Open Inference Protocol V2: infer with {card.name}",
            "description": "One tensor per feature (shape [N]) or one [N, k] tensor; the binary tensor extension "
                           "(Inference-Header-Content-Length) in both directions. All rows or none are scored. "
                           "Recorded with channel `v2`.",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": V2_REQUEST, "example": _v2_example(card)}}},
            "responses": {
                "200": {"description": "The outputs; application/octet-stream when binary outputs were asked for.",
                        "content": {"application/json": {"schema": V2_RESPONSE},
                                    "application/octet-stream": {"schema": {"type": "string",
                                                                            "format": "binary"}}}},
                **error_responses(PROTOCOL_STATUSES, V2_ERROR),
            },
        }}
        paths[f"/mlflow/{card.name}/invocations"] = {"post": {
            "operationId": f"mlflow_{card.name}_invocations",
            "tags": ["mlflow"],
            "summary": f"MLflow scoring protocol: invocations on {card.name}",
            "description": "JSON (dataframe_split, dataframe_records, instances, inputs) or text/csv with a header "
                           "row. All rows or none are scored. Recorded with channel `mlflow`.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": MLFLOW_REQUEST,
                                     "example": {"dataframe_records": [card.schema.example()]}},
                "text/csv": {"schema": {"type": "string"}},
            }},
            "responses": {
                "200": {"description": "One prediction per row, in order.", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"predictions": {"type": "array"}},
                               "required": ["predictions"]}}}},
                **error_responses(PROTOCOL_STATUSES, MLFLOW_ERROR),
            },
        }}
    return paths


def _legacy_paths() -> dict[str, Any]:
    """The original apps' endpoints, for the models they serve (when the catalogue has them)."""
    paths: dict[str, Any] = {}
    cards = {card.name: card for card in selectors.model_cards()}
    if "iris" in cards:
        paths["/predict"] = _legacy_iris(cards["iris"])
    if "diamonds" in cards:
        paths["/api/predict"] = _legacy_diamonds(cards["diamonds"])
    return paths


def _legacy_iris(card: ml.ModelCard) -> dict[str, Any]:
    numbers = [card.schema.feature(name) for name in card.schema.names]
    # One item schema for the bare array: exact when the features share a range (they do in the shipped card).
    ranges = {(f.minimum, f.maximum, f.exclusive_minimum) for f in numbers if f.kind in ("number", "integer")}
    items = numbers[0].json_schema() if len(ranges) == 1 else {"type": "number"}
    return {"post": {
        "operationId": "legacy_iris_predict",
        "tags": ["legacy"],
        "summary": "Legacy iris endpoint of the original Flask app",
        "description": "Body: " + ", ".join(f.name for f in numbers) + " in cm. Answers the class index as "
                       "plain text. Recorded with channel `legacy`.",
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "array", "minItems": len(numbers), "maxItems": len(numbers),
                       "items": items | {"description": "cm"}},
            "example": [card.schema.feature(name).example for name in card.schema.names],
        }}},
        "responses": {
            "200": {"description": "Class index.", "content": {"text/plain": {
                "schema": {"type": "string", "enum": [str(i) for i in range(len(card.classes))]}, "example": "2"}}},
            **error_responses([400, 404, 409, 413, 500, 503]),
        },
    }}


def _legacy_diamonds(card: ml.ModelCard) -> dict[str, Any]:
    query = []
    for name in ("carat", "cut", "color", "clarity", "depth", "table", "volume"):
        feature = card.schema.get(name)
        if feature is None:
            continue
        if feature.kind == "category":
            codes = feature.choices
            schema = {"type": "integer", "minimum": 0, "maximum": len(codes) - 1}
            description = "Ordinal code: " + ", ".join(f"{i}={label}" for i, label in enumerate(codes))
        else:
            schema = feature.json_schema()
            description = schema.pop("description")
        query.append({"name": name, "in": "query", "required": True, "schema": schema, "description": description})
    return {"get": {
        "operationId": "legacy_diamonds_predict",
        "tags": ["legacy"],
        "summary": "Legacy diamonds endpoint of the original Flask app",
        "description": "Ordinal codes for cut, color and clarity (worst = 0). Recorded with channel `legacy`.",
        "parameters": query,
        "responses": {
            "200": {"description": "Predicted price in USD.", "content": {"application/json": {
                "schema": {"type": "object", "properties": {"predicted_price": {"type": "number"}},
                           "required": ["predicted_price"]}}}},
            **error_responses([400, 404, 409, 500, 503]),
        },
    }}


def postprocess(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular hook: the plain Django views of the other protocols, which it cannot introspect."""
    paths = result.setdefault("paths", {})
    paths.update(_legacy_paths())
    paths.update(interop_paths())
    return result
