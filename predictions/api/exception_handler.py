"""The API's one exception handler: domain errors and DRF errors become {"error": {...}, "request_id"}."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import Error as DatabaseError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from predictions.domain.errors import HistoryUnavailable
from predictions.http.parsers import PayloadTooLarge
from predictions.http.statuses import error_body, http_error

log = logging.getLogger(__name__)


def api_exception_handler(exc: Exception, context: dict) -> Response:
    request = context.get("request")
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) if exc.args else None)
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) if exc.args else None)
    elif isinstance(exc, DatabaseError):
        # Reads (history, feedback) with the database down: a retryable 503, not a 500.
        log.warning("database unavailable: %s", exc)
        exc = HistoryUnavailable("The database is unavailable. Retry later.")

    error = http_error(exc)
    if error is not None:
        set_rollback()
        return Response(error_body(request, error.code, error.message, error.fields), status=error.status,
                        headers=error.headers)

    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
        code, message, fields = _describe(exc)
        set_rollback()
        return Response(error_body(request, code, message, fields), status=exc.status_code, headers=headers)

    log.error("unhandled error in API view", exc_info=exc)
    set_rollback()
    return Response(error_body(request, "server_error", "Internal error; it was logged with this request id."),
                    status=status.HTTP_500_INTERNAL_SERVER_ERROR)


def _describe(exc: exceptions.APIException) -> tuple[str, str, dict | None]:
    detail = exc.detail
    if isinstance(detail, dict):
        fields = {str(k): [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}
        return "invalid", "Invalid request: check " + ", ".join(sorted(fields)) + ".", fields
    if isinstance(detail, list):
        return "invalid", "; ".join(str(m) for m in detail), None
    code = getattr(detail, "code", None) or exc.default_code
    return str(code), str(detail), None
