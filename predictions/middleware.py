"""Request ids: every request gets one (a valid incoming X-Request-ID is kept), every response carries it."""

from __future__ import annotations

import uuid

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
