"""HTML pages. Thin: read through selectors, write through services, render templates."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from predictions.api.errors import error_response, wants_json
from predictions.selectors import model_list


def home(request: HttpRequest) -> HttpResponse:
    base = request.build_absolute_uri("/").rstrip("/")
    cards = []
    for info in model_list():
        example = info.spec.schema.example()
        cards.append({
            "info": info,
            "curl": (
                f"curl -s -X POST {base}/api/models/{info.name}/predict \\\n"
                f"  -H 'Content-Type: application/json' \\\n"
                f"  -d '{json.dumps(example)}'"
            ),
        })
    return render(request, "home.html", {"cards": cards})


# --- error pages: JSON for API clients, the site's layout for people ------------------------------------------------
def _error(request: HttpRequest, status: int, code: str, title: str, message: str, **context) -> HttpResponse:
    if wants_json(request):
        return error_response(request, status, code, message)
    return render(request, "error.html", {"status": status, "title": title, "message": message, **context},
                  status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "bad_request", "Bad request", "The request could not be understood.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "permission_denied", "Not allowed",
                  "You do not have permission to see this page. Staff pages need a staff login.")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _error(request, 403, "csrf_failed", "Form expired",
                  "The form could not be verified (CSRF check failed). Reload the page and submit it again.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 404, "not_found", "Page not found",
                  "There is nothing at this address. Check the link, or start again from the home page.")


def service_unavailable(request: HttpRequest) -> HttpResponse:
    # The layout asks who is logged in, which needs the database: render it for nobody instead.
    response = _error(request, 503, "database_unavailable", "Temporarily unavailable",
                      "The database is not reachable right now. Please try again in a few seconds.",
                      user=AnonymousUser())
    response["Retry-After"] = str(settings.HISTORY_RETRY_AFTER)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server_error", "Something went wrong",
                  "The error was logged with its request id. Please try again in a moment.")
