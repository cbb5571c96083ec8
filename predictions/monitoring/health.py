"""Liveness and readiness probes.

/healthz answers as long as the process can serve a request; it never touches the database, so a database outage
does not make an orchestrator restart healthy web workers. /readyz says whether this process can do its job: the
database answers and every model's default version is loaded and verified. It lists the reasons when not.
"""

from __future__ import annotations

from django.db import Error, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache

from predictions.domain.serving import get_registry


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    reasons: list[str] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Error as exc:
        reasons.append(f"database: {str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}")
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
    registry = get_registry()
    registry.load_defaults()  # cached: loads nothing after start-up unless a default was never tried
    models = {}
    for status in registry.status():
        models[status.name] = {"version": status.default_version, "loaded": status.loaded, "error": status.error}
        if status.error:
            reasons.append(f"model {status.name}: {status.error}")
        elif not status.loaded:
            reasons.append(f"model {status.name}: not loaded")
    if not models:
        reasons.append("models: the catalogue lists no model (manage.py train, or register one)")
    body = {"status": "ready" if not reasons else "unavailable", "reasons": reasons, "models": models}
    return JsonResponse(body, status=200 if not reasons else 503)
