"""Small helpers shared by the HTTP surfaces (API, pages, legacy and interop endpoints)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

from predictions.domain.services import Origin


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address. Behind TRUSTED_PROXY_COUNT reverse proxies it is the address the outermost trusted
    proxy saw, read from X-Forwarded-For the way DRF's throttling reads it (NUM_PROXIES); anything a client could
    have forged further left in that header is ignored."""
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",")]
        candidate = hops[-min(count, len(hops))]
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR") or None


def origin_for(request: HttpRequest, channel: str, *, anonymous: bool = False) -> Origin:
    """Who is asking. ``anonymous`` surfaces (legacy, V2, MLflow) never attach a session user: they are CSRF-exempt,
    so a user must not be inferred from a cookie a third-party page could make the browser send."""
    return Origin(
        channel=channel,
        request_id=getattr(request, "request_id", None),
        user=None if anonymous else getattr(request, "user", None),
        client_ip=client_ip(request),
    )

