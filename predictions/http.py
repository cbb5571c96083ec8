"""Small helpers shared by the HTTP surfaces (API, pages, legacy and interop endpoints)."""

from __future__ import annotations

from django.http import HttpRequest

from predictions.services import Origin


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def origin_for(request: HttpRequest, channel: str) -> Origin:
    return Origin(
        channel=channel,
        request_id=getattr(request, "request_id", None),
        user=getattr(request, "user", None),
        client_ip=client_ip(request),
    )
