"""Error pages: JSON for API clients (settings.JSON_PATHS, or Accept: application/json), the site's layout for people.

Django's handlers (400, 403, 404, 500, CSRF failures) are HTTP's own answers. A domain error a page could not take
(predictions.domain.errors) is answered with the status and title of its row in the catalogue,
predictions/http/statuses.py, like on every other channel.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from predictions.domain.errors import DatabaseUnavailable, DuplicateRequestId, HistoryUnavailable
from predictions.http import access
from predictions.http.statuses import error_response, http_error, wants_json


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


def server_error(request: HttpRequest) -> HttpResponse:
    return _error(request, 500, "server_error", "Something went wrong",
                  "The error was logged with its request id. Please try again in a moment.")


def domain_error(request: HttpRequest, exc: Exception, **context) -> HttpResponse:
    """The page of a domain error, as the catalogue answers it."""
    error = http_error(exc)
    if error is None:
        raise exc
    response = _error(request, error.status, error.code, error.title, error.message, **context)
    for name, value in error.headers.items():
        response[name] = value
    return response


def not_taken(request: HttpRequest, exc: Exception, again: str) -> HttpResponse:
    """The page for a submission the service could not take; ``again`` says how to try once more."""
    if isinstance(exc, HistoryUnavailable):
        return service_unavailable(request)
    if isinstance(exc, DuplicateRequestId):
        exc = DuplicateRequestId(f"This request id names another recorded request. {again}")
    return domain_error(request, exc)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """The database is unreachable: the history's outage, answered as the catalogue answers HistoryUnavailable."""
    exc = DatabaseUnavailable("The database is not reachable right now. Please try again in a few seconds.")
    # The layout asks who is logged in, which needs the database: render it for nobody instead.
    return domain_error(request, exc, user=AnonymousUser())


def refused(request: HttpRequest, refusal: access.Refusal) -> HttpResponse:
    """A predict call the gate refused (predictions.http.access): too many, or not signed in."""
    if refusal.status == 429:
        response = _error(request, 429, refusal.code, "Too many predictions", refusal.message)
        response["Retry-After"] = refusal.headers["Retry-After"]
        return response
    # A page, not an API: no WWW-Authenticate challenge but a 403 with the way in.
    return _error(request, 403, refusal.code, "Log in to predict",
                  "This server only takes predictions from signed-in users. Log in, then submit again.",
                  login_url=f"{settings.LOGIN_URL}?next={quote(request.get_full_path())}")
