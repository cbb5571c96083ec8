"""The error catalogue: how every domain error is answered, in one table, and the JSON error shape of the REST API.

Each domain error carries its own code and retry hint (predictions.domain.errors); the table below is the only place
a domain error gets its HTTP status, its title on a page and its line in the OpenAPI document. Every channel answers
from it in its own shape: the REST API and the legacy endpoints with {"error": {"code", "message", "fields"?},
"request_id"}, V2 with {"error": "..."}, MLflow with {"error_code", "message"}, the pages with an error page, the
OpenAPI document with one description per status. Adding a domain error means one new class and one row here.
"""

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
    RegistrationRefused,
    ScoringError,
    error_code,
)
from predictions.http.paths import json_paths

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    status: int
    title: str  # the heading of its error page
    summary: str  # its line in the OpenAPI document


CATALOGUE: dict[type[Exception], Entry] = {
    InvalidInput: Entry(400, "Invalid input", "Invalid input, field by field."),
    ModelNotFound: Entry(404, "Page not found", "Unknown model, version or record."),
    DuplicateRequestId: Entry(409, "Already submitted", "X-Request-ID already used by another request or client."),
    BatchTooLarge: Entry(413, "Too many rows", "Batch larger than this server accepts."),
    RegistrationRefused: Entry(400, "Model not registered", "The model card or file cannot be registered."),
    ScoringError: Entry(500, "Model failure", "Model failure (never caused by input; logged)."),
    ModelUnavailable: Entry(503, "Model unavailable", "Model unavailable."),
    HistoryUnavailable: Entry(503, "Temporarily unavailable", "History store unavailable; see Retry-After."),
}

# HTTP's own answers, which are not domain errors, as the OpenAPI document describes them.
PROTOCOL: dict[int, str] = {
    400: "Unreadable request (not JSON, not UTF-8, malformed).",
    401: "Authentication required.",
    403: "Not allowed.",
    405: "Method not allowed.",
    406: "Not acceptable.",
    413: "Body too large.",
    415: "Unsupported media type.",
    429: "Throttled; see Retry-After.",
}


@dataclass(frozen=True)
class HttpError:
    status: int
    code: str
    message: str
    fields: dict[str, list[str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    title: str = ""


def http_error(exc: Exception) -> HttpError | None:
    """How ``exc`` is answered, or None when it is not a domain error."""
    entry = next((entry for kind, entry in CATALOGUE.items() if isinstance(exc, kind)), None)
    if entry is None:
        return None
    if isinstance(exc, ScoringError):
        log.error("model failed on valid input: %s", exc)
    headers = {"Retry-After": str(settings.HISTORY_RETRY_AFTER)} if getattr(exc, "retry_after", False) else {}
    message = exc.message if isinstance(exc, InvalidInput) else str(exc)
    fields = (exc.fields or None) if isinstance(exc, InvalidInput) else None
    return HttpError(entry.status, error_code(exc), message, fields, headers, entry.title)


def describe(status: int) -> str:
    """The OpenAPI description of a status: what the catalogue and HTTP itself answer with it."""
    lines = [entry.summary for entry in CATALOGUE.values() if entry.status == status]
    if status in PROTOCOL:
        lines.append(PROTOCOL[status])
    return " ".join(dict.fromkeys(lines)) or "Error."


# --- the REST error shape in the OpenAPI document (REST API and the legacy endpoints) --------------------------------
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


def error_responses(statuses: list[int], schema: dict[str, Any] = ERROR_REF) -> dict[str, Any]:
    """OpenAPI responses for ``statuses``, each described from the catalogue, in the error shape ``schema``."""
    return {str(status): {"description": describe(status), "content": {"application/json": {"schema": schema}}}
            for status in statuses}


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
    """A domain error in the REST shape; anything else is re-raised."""
    error = http_error(exc)
    if error is None:
        raise exc
    return error_response(request, error.status, error.code, error.message, fields=error.fields,
                          headers=error.headers)
