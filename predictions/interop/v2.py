"""Open Inference Protocol V2 (KServe / Triton / MLServer / Seldon), REST: JSON plus the binary tensor extension.

Every inference is scored and recorded through the same services as the REST API (channel ``v2``); a request of N
rows is one prediction (N = 1) or an all-or-nothing batch. Errors are ``{"error": "<message>"}`` as the protocol
says: 400 for a request the model cannot take, 404 for an unknown model or version, 413 for a body too large, 503
(+ Retry-After) when the history cannot record the answer.
"""

from __future__ import annotations

import json
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
from predictions.interop import tensors
from predictions.interop.scoring import score_rows
from predictions.interop.tensors import TensorError
from predictions.models import Channel, Status

SERVER = {"name": "mlsite", "version": "1.0", "extensions": ["binary_tensor_data"]}
HEADER_LENGTH = "Inference-Header-Content-Length"


def _error(message: str, status: int, headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers)


def _only(request: HttpRequest, *methods: str) -> JsonResponse | None:
    if request.method in methods or (request.method == "HEAD" and "GET" in methods):
        return None
    return _error(f"Method {request.method} is not allowed here; use {' or '.join(methods)}.", 405,
                  {"Allow": ", ".join(methods)})


# --- server and model metadata ------------------------------------------------------------------------------------
@csrf_exempt
def server_metadata(request: HttpRequest) -> JsonResponse:
    return _only(request, "GET") or JsonResponse(SERVER)


@csrf_exempt
def server_live(request: HttpRequest) -> JsonResponse:
    return _only(request, "GET") or JsonResponse({"live": True})


@csrf_exempt
def server_ready(request: HttpRequest) -> JsonResponse:
    """Ready when every model's default version is loaded and verified (the protocol: 200 true, 4xx false)."""
    if refused := _only(request, "GET"):
        return refused
    ready = not any(get_registry().load_defaults().values())  # name -> error; loads are cached per process
    return JsonResponse({"ready": ready}, status=200 if ready else 400)


def _resolve(name: str, version: str | None) -> tuple[ml.LoadedModel | None, JsonResponse | None]:
    try:
        return get_registry().get(name, version), None
    except (ml.ModelNotFound, ml.ModelUnavailable) as exc:
        return None, _domain_error(exc)


def _domain_error(exc: Exception) -> JsonResponse:
    error = http_error(exc)
    return _error(error.message, error.status, error.headers)


@csrf_exempt
def model_metadata(request: HttpRequest, name: str, version: str | None = None) -> JsonResponse:
    if refused := _only(request, "GET"):
        return refused
    model, error = _resolve(name, version)
    if error:
        return error
    schema = model.card.schema
    inputs = [{"name": n, "datatype": tensors.datatype_of(schema.feature(n)), "shape": [-1]}
              for n in schema.accepted_names]
    outputs = [{"name": "predict", "datatype": "INT64" if model.card.is_classifier else "FP64", "shape": [-1]}]
    if model.card.is_classifier:
        outputs += [{"name": "label", "datatype": "BYTES", "shape": [-1]},
                    {"name": "probabilities", "datatype": "FP64", "shape": [-1, len(model.card.labels)]}]
    return JsonResponse({
        "name": model.name, "versions": get_registry().versions(model.name), "platform": "scikit-learn",
        "inputs": inputs, "outputs": outputs,
        "parameters": {
            "version": model.version, "algorithm": model.manifest.get("algorithm", ""),
            "single_tensor": {"shape": [-1, len(schema.features)], "columns": list(schema.names),
                              "codes": {f.name: list(f.choices) for f in schema.features
                                        if isinstance(f, ml.CategoryFeature)}},
        },
    })


@csrf_exempt
def model_ready(request: HttpRequest, name: str, version: str | None = None) -> JsonResponse:
    if refused := _only(request, "GET"):
        return refused
    try:
        get_registry().get(name, version)
    except ml.ModelNotFound as exc:
        return _domain_error(exc)
    except ml.ModelUnavailable:
        return JsonResponse({"name": name, "ready": False}, status=400)
    return JsonResponse({"name": name, "ready": True})


# --- inference ----------------------------------------------------------------------------------------------------
@csrf_exempt
def infer(request: HttpRequest, name: str, version: str | None = None) -> HttpResponse:
    if refused := _only(request, "POST"):
        return refused
    if refusal := access.check_predict(request, session=False):
        return _error(refusal.message, refusal.status, refusal.headers)
    origin = origin_for(request, Channel.V2, anonymous=True)
    raw: Any = None
    try:
        body = read_bounded(request, request)
        head, binary = tensors.split_body(body, request.headers.get(HEADER_LENGTH))
        raw = head[:4096].decode("utf-8", "replace")
        payload = loads_strict(head)
        if not isinstance(payload, dict):
            raise TensorError("The request body must be a JSON object with 'inputs'.")
        raw = payload
        model, error = _resolve(name, version)
        if error:
            services.prediction_reject(model_name=name, raw=_capped(payload), origin=origin, version=version,
                                       error=InvalidInput(json.loads(error.content)["error"]))
            return error
        requested = _requested_outputs(payload, model)
        rows = tensors.rows_from_tensors(tensors.read_inputs(payload, binary), model.card.schema)
    except APIException as exc:  # unparseable JSON, body too large
        return _refuse(name, raw, str(exc.detail), exc.status_code, origin, version)
    except TensorError as exc:
        return _refuse(name, _capped(raw), str(exc), 400, origin, version)
    throttling.charge(request, len(rows) - 1)
    records, error = score_rows(name=name, rows=rows, origin=origin, version=version)
    if error is not None:
        return _error(error.message, error.status, error.headers)
    return _respond(request, payload, model, records, requested)


def _capped(payload: Any) -> Any:
    """A record-sized copy of the request: tensor data is summarised, not stored whole."""
    if not isinstance(payload, dict):
        return payload
    inputs = payload.get("inputs")
    if isinstance(inputs, list):
        summary = [{k: (v[:8] if k == "data" and isinstance(v, list) else v) for k, v in t.items()}
                   if isinstance(t, dict) else t for t in inputs[:20]]
        return {**{k: v for k, v in payload.items() if k != "inputs"}, "inputs": summary}
    return payload


def _refuse(name: str, raw: Any, message: str, status: int, origin, version: str | None) -> JsonResponse:
    services.prediction_reject(model_name=name, raw=raw, origin=origin, version=version,
                               error=InvalidInput(message, fields={"request": [message]}))
    return _error(message, status)


def _requested_outputs(payload: dict, model: ml.LoadedModel) -> list[tuple[str, bool]]:
    """(output name, binary?) for each output the response carries."""
    available = ["predict", "label", "probabilities"] if model.card.is_classifier else ["predict"]
    parameters = payload.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise TensorError("'parameters' must be an object.")
    default_binary = parameters.get("binary_data_output") is True
    wanted = payload.get("outputs")
    if wanted is None:
        return [(name, default_binary) for name in available]
    if not isinstance(wanted, list) or not all(isinstance(o, dict) and isinstance(o.get("name"), str)
                                               for o in wanted):
        raise TensorError("'outputs' must be a list of objects with a name.")
    chosen = []
    for output in wanted:
        if output["name"] not in available:
            raise TensorError(f"Unknown output '{output['name']}'; this model has: {', '.join(available)}.")
        binary = (output.get("parameters") or {}).get("binary_data", default_binary) is True
        chosen.append((output["name"], binary))
    return chosen


def _respond(request: HttpRequest, payload: dict, model: ml.LoadedModel, records: list, requested) -> HttpResponse:
    ok = [r for r in records if r.status == Status.OK]
    count = len(ok)
    columns = {"predict": ("INT64" if model.card.is_classifier else "FP64", [count],
                           [r.outputs["prediction"] for r in ok])}
    if model.card.is_classifier:
        labels = model.card.labels
        columns["label"] = ("BYTES", [count], [r.outputs["label"] for r in ok])
        columns["probabilities"] = ("FP64", [count, len(labels)],
                                    [r.outputs["probabilities"][label] for r in ok for label in labels])
    outputs = [{"name": name, "datatype": columns[name][0], "shape": columns[name][1], "data": columns[name][2]}
               for name, _ in requested]
    response: dict[str, Any] = {"model_name": model.name, "model_version": model.version}
    if isinstance(payload.get("id"), str):
        response["id"] = payload["id"]
    response["parameters"] = {"request_id": str(records[0].batch.request_id if records[0].batch_id
                                                else records[0].request_id)}
    body, header_length = tensors.encode_response(response, outputs, {n for n, binary in requested if binary})
    if header_length is None:
        return HttpResponse(body, content_type="application/json")
    result = HttpResponse(body, content_type="application/octet-stream")
    result[HEADER_LENGTH] = str(header_length)
    return result
