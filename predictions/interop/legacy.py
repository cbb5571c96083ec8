"""The two endpoints of the original Flask apps, byte-compatible, recorded with channel ``legacy``.

- ``POST /predict`` (iris): body ``[5.9, 3.0, 5.1, 1.8]`` → ``200 text/plain`` body ``2``.
- ``GET /api/predict?carat=&cut=&color=&clarity=&depth=&table=&volume=`` (diamonds, ordinal codes) →
  ``{"predicted_price":<float>}`` followed by a newline, exactly as Flask's ``jsonify`` wrote it.
Errors use the API's JSON error shape and are recorded as rejected like any other bad input.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import APIException

import ml
from predictions.domain import services
from predictions.domain.errors import InvalidInput
from predictions.domain.services import Origin
from predictions.domain.serving import get_registry
from predictions.http import access
from predictions.http.origin import origin_for
from predictions.http.parsers import loads_strict, read_bounded
from predictions.http.statuses import domain_error_response, error_response
from predictions.models import Channel

IRIS, DIAMONDS = "iris", "diamonds"  # the two models the original apps served, by their catalogue names


def _gate(request: HttpRequest) -> HttpResponse | None:
    if (refusal := access.check_predict(request, session=False)) is None:
        return None
    return error_response(request, refusal.status, refusal.code, refusal.message, headers=refusal.headers)


def _origin(request: HttpRequest) -> Origin:
    return origin_for(request, Channel.LEGACY, anonymous=True)


@csrf_exempt
def iris_predict(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return error_response(request, 405, "method_not_allowed", "Use POST with a JSON array of four numbers.",
                              headers={"Allow": "POST"})
    if refused := _gate(request):
        return refused
    origin = _origin(request)
    raw: Any = None
    try:
        body = read_bounded(request, request)
        raw = body[:4096].decode("utf-8", "replace")
        raw = loads_strict(body)
        features = _iris_features(raw, get_registry().card(IRIS))
    except APIException as exc:  # unparseable or too large
        return _reject(request, IRIS, raw, exc, origin)
    except (InvalidInput, ml.ModelNotFound, ml.ModelUnavailable) as exc:
        return _reject(request, IRIS, raw, exc, origin)
    return _answer(request, IRIS, features, origin,
                   lambda row: HttpResponse(str(row.outputs["prediction"]), content_type="text/plain; charset=utf-8"))


def _iris_features(raw: Any, card: ml.ModelCard) -> dict[str, Any]:
    names = card.schema.names
    if not isinstance(raw, list) or len(raw) != len(names):
        raise InvalidInput(
            f"Expected a JSON array of {len(names)} numbers: {', '.join(names)} (cm).",
            fields={"body": [f"Send [{', '.join(names)}], e.g. [5.9, 3.0, 5.1, 1.8]."]},
        )
    return dict(zip(names, raw, strict=True))


@csrf_exempt  # a read-only GET endpoint; exempt so that other methods get their 405, not a CSRF 403
def diamonds_predict(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return error_response(request, 405, "method_not_allowed", "Use GET with query parameters.",
                              headers={"Allow": "GET"})
    if refused := _gate(request):
        return refused
    origin = _origin(request)
    query = {key: request.GET.get(key) for key in request.GET if key}  # a leading "&" yields no key at all
    try:
        features = _diamond_features(query, get_registry().card(DIAMONDS))
    except (InvalidInput, ml.ModelNotFound, ml.ModelUnavailable) as exc:
        return _reject(request, DIAMONDS, query, exc, origin)
    return _answer(request, DIAMONDS, features, origin, lambda row: HttpResponse(
        json.dumps({"predicted_price": row.outputs["prediction"]}, separators=(",", ":")) + "\n",
        content_type="application/json",
    ))


_DIAMOND_PARAMS = ("carat", "cut", "color", "clarity", "depth", "table", "volume")


def _diamond_features(query: dict[str, str], card: ml.ModelCard) -> dict[str, Any]:
    """Query strings → the schema's features; ordinal codes (cut=3) → labels (Premium), in the card's order."""
    errors: dict[str, list[str]] = {}
    features: dict[str, Any] = {}
    for name in _DIAMOND_PARAMS:
        text = query.get(name)
        if text is None or text.strip() == "":
            errors[name] = ["This parameter is required."]
            continue
        feature = card.schema.get(name)
        if feature is None or feature.kind != "category":
            features[name] = feature.parse_text(text) if feature is not None else text
            continue
        choices = feature.choices
        try:
            number = float(text)
        except ValueError:
            number = -1.0
        if not number.is_integer() or not 0 <= number < len(choices):
            legend = ", ".join(f"{code}={label}" for code, label in enumerate(choices))
            errors[name] = [f"Must be an integer code from 0 to {len(choices) - 1} ({legend})."]
            continue
        features[name] = choices[int(number)]
    if errors:
        raise InvalidInput("Invalid query: check " + ", ".join(sorted(errors)) + ".", fields=errors)
    return features


def _answer(request: HttpRequest, model_name: str, features: dict, origin: Origin, render) -> HttpResponse:
    try:
        row = services.prediction_create(model_name=model_name, inputs=features, origin=origin)
    except Exception as exc:  # noqa: BLE001 - domain errors become their HTTP form; anything else re-raises there
        return domain_error_response(request, exc)
    return render(row)


def _reject(request: HttpRequest, model_name: str, raw: Any, exc: Exception, origin: Origin) -> HttpResponse:
    try:
        services.prediction_reject(model_name=model_name, raw=raw, error=exc, origin=origin)
    except Exception as failure:  # noqa: BLE001 - HistoryUnavailable (strict) or DuplicateRequestId
        return domain_error_response(request, failure)
    if isinstance(exc, APIException):
        return error_response(request, exc.status_code, str(exc.default_code), str(exc.detail),
                              fields={"body": [str(exc.detail)]})
    return domain_error_response(request, exc)
