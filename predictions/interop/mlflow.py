"""The MLflow model-server scoring protocol under /mlflow/<name>/: ping, version, invocations.

``POST invocations`` takes what ``mlflow models serve`` takes — JSON with one of ``dataframe_split``,
``dataframe_records``, ``instances`` or ``inputs``, or a ``text/csv`` body with a header row — and answers
``{"predictions": [...]}`` with the model's raw outputs in row order, as mlflow's own server does: for a classifier
the estimator's class values (classes_; for iris they are its class indexes), for a regressor the numbers. Rows are
recorded with channel ``mlflow`` as one prediction or an all-or-nothing batch. Errors have MLflow's shape:
``{"error_code": "BAD_REQUEST", "message": "..."}``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import APIException

import ml
from predictions.domain import services
from predictions.domain.errors import InvalidInput
from predictions.domain.serving import get_registry
from predictions.http import access, throttling
from predictions.http.origin import origin_for
from predictions.http.parsers import loads_strict, read_bounded
from predictions.http.statuses import http_error
from predictions.interop.scoring import score_rows
from predictions.models import Channel

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_CODES = {400: "BAD_REQUEST", 401: "UNAUTHENTICATED", 404: "RESOURCE_DOES_NOT_EXIST", 405: "BAD_REQUEST",
          409: "RESOURCE_ALREADY_EXISTS", 413: "BAD_REQUEST", 415: "BAD_REQUEST", 429: "REQUEST_LIMIT_EXCEEDED",
          503: "TEMPORARILY_UNAVAILABLE"}


class BadPayload(ValueError):
    pass


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"error_code": _CODES.get(status, "INTERNAL_ERROR"), "message": message}, status=status,
                        headers=headers)


def _model(name: str) -> tuple[ml.LoadedModel | None, JsonResponse | None]:
    try:
        return get_registry().get(name), None
    except (ml.ModelNotFound, ml.ModelUnavailable) as exc:
        error = http_error(exc)
        return None, _error(error.message, error.status, error.headers)


@csrf_exempt
def ping(request: HttpRequest, name: str) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return _error("Use GET.", 405, {"Allow": "GET"})
    _, error = _model(name)
    return error or HttpResponse("\n", content_type="application/json")


@csrf_exempt
def version(request: HttpRequest, name: str) -> HttpResponse:
    """The served model version (MLflow answers its own package version here; mlsite's models are versioned)."""
    if request.method not in ("GET", "HEAD"):
        return _error("Use GET.", 405, {"Allow": "GET"})
    model, error = _model(name)
    return error or HttpResponse(model.version, content_type="text/plain; charset=utf-8")


@csrf_exempt
def invocations(request: HttpRequest, name: str) -> HttpResponse:
    if request.method != "POST":
        return _error("Use POST.", 405, {"Allow": "POST"})
    if refusal := access.check_predict(request, session=False):
        return _error(refusal.message, refusal.status, refusal.headers)
    origin = origin_for(request, Channel.MLFLOW, anonymous=True)
    content_type = request.content_type or ""
    raw: Any = None
    try:
        body = read_bounded(request, request)
        raw = body[:4096].decode("utf-8", "replace")
        model, error = _model(name)
        if error:
            services.prediction_reject(model_name=name, raw=raw, origin=origin, error=InvalidInput(
                error.content.decode()))
            return error
        if content_type == "text/csv":
            rows = _csv_rows(body, model.card.schema)
        elif content_type in ("application/json", ""):
            payload = loads_strict(body)
            raw = payload if len(body) <= 4096 else raw
            rows = _json_rows(payload, model.card.schema)
        else:
            message = f"Content-Type {content_type} is not supported; send application/json or text/csv."
            services.prediction_reject(model_name=name, raw=raw, origin=origin,
                                       error=InvalidInput(message, fields={"content_type": [message]}))
            return _error(message, 415)
    except APIException as exc:
        return _refuse(name, raw, str(exc.detail), exc.status_code, origin)
    except BadPayload as exc:
        return _refuse(name, raw, str(exc), 400, origin)
    throttling.charge(request, len(rows) - 1)
    records, error = score_rows(name=name, rows=rows, origin=origin)
    if error is not None:
        return _error(error.message, error.status, error.headers)
    if model.card.is_classifier:  # as mlflow's own server answers: the estimator's class values
        values = [info.value for info in model.card.classes]
        return JsonResponse({"predictions": [values[r.outputs["prediction"]] for r in records]})
    return JsonResponse({"predictions": [r.outputs["prediction"] for r in records]})


def _refuse(name: str, raw: Any, message: str, status: int, origin) -> JsonResponse:
    services.prediction_reject(model_name=name, raw=raw, origin=origin,
                               error=InvalidInput(message, fields={"request": [message]}))
    return _error(message, status)


def _json_rows(payload: Any, schema) -> list[Any]:
    if not isinstance(payload, dict) or len([k for k in FORMATS if k in payload]) != 1:
        raise BadPayload(f"Send a JSON object with exactly one of: {', '.join(FORMATS)}.")
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        if not isinstance(split, dict) or not isinstance(split.get("columns"), list) \
                or not isinstance(split.get("data"), list):
            raise BadPayload("dataframe_split needs 'columns' (a list of names) and 'data' (a list of rows).")
        columns = split["columns"]
        if not all(isinstance(c, str) for c in columns):
            raise BadPayload("dataframe_split columns must be names.")
        rows = []
        for index, values in enumerate(split["data"]):
            if not isinstance(values, list) or len(values) != len(columns):
                raise BadPayload(f"dataframe_split data[{index}] must be a list of {len(columns)} values.")
            rows.append(dict(zip(columns, values, strict=True)))
        return _some(rows)
    if "dataframe_records" in payload:
        return _some(_list(payload["dataframe_records"], "dataframe_records"))
    if "instances" in payload:
        instances = _list(payload["instances"], "instances")
        # TF-serving style: lists are rows in the schema's column order; objects are named features.
        return _some([dict(zip(schema.names, row, strict=False)) if isinstance(row, list) else row
                      for row in instances])
    inputs = payload["inputs"]
    if isinstance(inputs, dict):  # columnar: {"carat": [...], "cut": [...]}
        if not inputs or not all(isinstance(v, list) for v in inputs.values()):
            raise BadPayload("Columnar 'inputs' maps each feature name to a list of values.")
        lengths = {len(v) for v in inputs.values()}
        if len(lengths) != 1:
            raise BadPayload("Every column in 'inputs' must have the same length.")
        return _some([{k: v[i] for k, v in inputs.items()} for i in range(lengths.pop())])
    return _some(_list(inputs, "inputs"))


def _list(value: Any, name: str) -> list:
    if not isinstance(value, list):
        raise BadPayload(f"'{name}' must be a list.")
    return value


def _some(rows: list) -> list:
    if not rows:
        raise BadPayload("There are no rows to score.")
    return rows


def _csv_rows(body: bytes, schema) -> list[dict[str, Any]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadPayload("The CSV body is not UTF-8 text.") from None
    try:
        reader = csv.reader(io.StringIO(text), strict=True)
        header = next(reader, None)
        if not header:
            raise BadPayload("The CSV body needs a header row of feature names.")
        columns = [c.strip() for c in header]
        rows = [schema.parse_text_row(dict(zip(columns, cells, strict=False)))
                for cells in reader if any(c.strip() for c in cells)]
    except csv.Error as exc:
        raise BadPayload(f"The CSV body is not valid CSV: {exc}.") from None
    return _some(rows)
