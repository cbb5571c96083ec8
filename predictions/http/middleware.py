"""Request ids on every request and response; the Content-Security-Policy on pages."""

from __future__ import annotations

import uuid

from csp.middleware import CSPMiddleware
from django.db import InterfaceError, OperationalError, connection

from predictions.http.paths import json_paths

HEADER = "HTTP_X_REQUEST_ID"


def parse_request_id(value: str | None) -> uuid.UUID | None:
    if not value or len(value) > 64:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = parse_request_id(request.META.get(HEADER)) or uuid.uuid4()
        response = self.get_response(request)
        response["X-Request-ID"] = str(request.request_id)
        return response


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's middleware, minus its work on responses it will not touch.

    The JSON endpoints (settings.JSON_PATHS) get no policy: it means nothing to an API client, and django-csp builds
    the whole policy string for every response, a measurable share of a prediction's time. The exclusion is decided
    here, by whole path segments, not by django-csp's EXCLUDE_URL_PREFIXES, whose bare prefix match let "/predict"
    swallow every "/predictions/..." result page.
    """

    def process_request(self, request):
        if request.path_info in json_paths():
            return None
        return super().process_request(request)

    def process_response(self, request, response):
        if request.path_info in json_paths():
            return response
        return super().process_response(request, response)


class DatabaseErrorMiddleware:
    """A view that hits a broken database connection answers 503 + Retry-After, not a 500, and the connection is
    dropped so that the next request opens a fresh one (admin pages, history, anything without its own handling)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        from predictions.http.error_pages import service_unavailable

        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
        return service_unavailable(request)
