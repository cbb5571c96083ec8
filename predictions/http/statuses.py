"""The one error shape of mlsite's JSON surfaces: {"error": {"code", "message", "fields"?}, "request_id"},
and the one mapping of domain errors to HTTP statuses that every surface (DRF, legacy, V2, MLflow) shares."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse

from predictions.domain.errors import (
    BatchTooLarge,
    DuplicateRequestId,
    HistoryUnavailable,
    InvalidInput,
    ModelNotFound,
    ModelUnavailable,
    ScoringError,
)
from predictions.http.paths import json_paths

log = logging.getLogger(__name__)

# Domain error → (HTTP status, code)
_DOMAIN: dict[type[Exception], tuple[int, str]] = {
    InvalidInput: (400, "invalid"),
    ModelNotFound: (404, "not_found"),
    DuplicateRequestId: (409, "duplicate_request_id"),
    BatchTooLarge: (413, "too_many_rows"),
    ModelUnavailable: (503, "model_unavailable"),
    HistoryUnavailable: (503, "history_unavailable"),
    ScoringError: (500, "model_error"),
}


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str
    message: str
    fields: dict[str, list[str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def domain_error(exc: Exception) -> HttpError | None:
    """The HTTP form of a domain error, or None when ``exc`` is not one."""
    for kind, (status, code) in _DOMAIN.items():
        if isinstance(exc, kind):
            if isinstance(exc, InvalidInput):
                return HttpError(status, code, exc.message, exc.fields or None)
            headers = {"Retry-After": str(settings.HISTORY_RETRY_AFTER)} if isinstance(exc, HistoryUnavailable) else {}
            if isinstance(exc, ScoringError):
                log.error("model failed on valid input: %s", exc)
            return HttpError(status, code, str(exc), None, headers)
    return None


def wants_json(request: HttpRequest) -> bool:
    return request.path in json_paths() or "application/json" in request.headers.get("Accept", "")


def error_body(request: Any, code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    request_id = getattr(request, "request_id", None)
    return {"error": error, "request_id": str(request_id) if request_id else None}


def error_response(request: HttpRequest, status: int, code: str, message: str, *, fields: dict | None = None,
                   headers: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse(error_body(request, code, message, fields), status=status, headers=headers)


def domain_error_response(request: HttpRequest, exc: Exception) -> JsonResponse:
    error = domain_error(exc)
    if error is None:
        raise exc
    return error_response(request, error.status, error.code, error.message, fields=error.fields,
                          headers=error.headers)
