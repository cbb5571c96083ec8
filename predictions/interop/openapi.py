"""OpenAPI descriptions of the two interop predict operations, merged into /api/schema/ by predictions.api.openapi.

V2 (`POST /v2/models/<name>/infer`) and MLflow (`POST /mlflow/<name>/invocations`) are plain Django views with
their own protocols' error shapes; describing them here puts them in the API docs and in front of the schemathesis
fuzzer with everything else. One path per model, with an example built from the model's feature schema.
"""

from __future__ import annotations

from typing import Any

import ml
from predictions.interop.tensors import DATATYPES

V2_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
MLFLOW_ERROR = {"type": "object", "properties": {"error_code": {"type": "string"}, "message": {"type": "string"}},
                "required": ["error_code", "message"]}
ERROR_TEXT = {
    "400": "The request cannot be read or the model cannot take it.",
    "401": "Authentication required (PREDICT_ALLOW_ANONYMOUS=0): send an API token.",
    "404": "Unknown model or version.",
    "405": "Method not allowed.",
    "409": "X-Request-ID already used.",
    "413": "Body or batch too large.",
    "415": "Unsupported media type.",
    "429": "Throttled; see Retry-After.",
    "503": "History store or model unavailable; see Retry-After.",
}
V2_CODES = ["400", "401", "404", "405", "409", "413", "415", "429", "503"]
MLFLOW_CODES = ["400", "401", "404", "405", "409", "413", "415", "429", "503"]

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


def _errors(codes: list[str], schema: dict) -> dict[str, Any]:
    return {code: {"description": ERROR_TEXT[code], "content": {"application/json": {"schema": schema}}}
            for code in codes}


def _v2_example(spec: ml.ModelSpec) -> dict[str, Any]:
    row = spec.schema.example()
    return {"inputs": [{"name": name, "shape": [1],
                        "datatype": "FP64" if isinstance(value, (int, float)) else "BYTES", "data": [value]}
                       for name, value in row.items()]}


def interop_paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for spec in ml.SPECS.values():
        paths[f"/v2/models/{spec.name}/infer"] = {"post": {
            "operationId": f"v2_{spec.name}_infer",
            "tags": ["v2"],
            "summary": f"Open Inference Protocol V2: infer with {spec.name}",
            "description": "One tensor per feature (shape [N]) or one [N, k] tensor; the binary tensor extension "
                           "(Inference-Header-Content-Length) in both directions. All rows or none are scored. "
                           "Recorded with channel `v2`.",
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": V2_REQUEST, "example": _v2_example(spec)}}},
            "responses": {
                "200": {"description": "The outputs; application/octet-stream when binary outputs were asked for.",
                        "content": {"application/json": {"schema": V2_RESPONSE},
                                    "application/octet-stream": {"schema": {"type": "string",
                                                                            "format": "binary"}}}},
                **_errors(V2_CODES, V2_ERROR),
            },
        }}
        paths[f"/mlflow/{spec.name}/invocations"] = {"post": {
            "operationId": f"mlflow_{spec.name}_invocations",
            "tags": ["mlflow"],
            "summary": f"MLflow scoring protocol: invocations on {spec.name}",
            "description": "JSON (dataframe_split, dataframe_records, instances, inputs) or text/csv with a header "
                           "row. All rows or none are scored. Recorded with channel `mlflow`.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": MLFLOW_REQUEST,
                                     "example": {"dataframe_records": [spec.schema.example()]}},
                "text/csv": {"schema": {"type": "string"}},
            }},
            "responses": {
                "200": {"description": "One prediction per row, in order.", "content": {"application/json": {
                    "schema": {"type": "object", "properties": {"predictions": {"type": "array"}},
                               "required": ["predictions"]}}}},
                **_errors(MLFLOW_CODES, MLFLOW_ERROR),
            },
        }}
    return paths
