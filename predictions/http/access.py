"""The gate every predict surface outside DRF passes before it reads a body: PREDICT_ALLOW_ANONYMOUS, then
PREDICT_THROTTLE_RATE, the same rules the REST API's permission and throttle classes apply.

Who is asking depends on the surface. The HTML form and CSV upload are CSRF-protected, so their session user counts.
The legacy, V2 and MLflow endpoints are CSRF-exempt: a session cookie a third-party page made the browser send must
not count there, so only an ``Authorization: Token <key>`` header (the API's tokens) identifies a user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from predictions.http import throttling

LOGIN_REQUIRED = "Authentication is required to make predictions on this server."


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


def check_predict(request, *, session: bool) -> Refusal | None:
    """None when this request may predict (its call is then counted), else why not."""
    user = request.user if session and request.user.is_authenticated else None
    try:
        found = TokenAuthentication().authenticate(request) if user is None else None
    except AuthenticationFailed as exc:  # a token header that names no token
        return Refusal(401, "authentication_failed", str(exc.detail), {"WWW-Authenticate": "Token"})
    if found:
        user = found[0]
    if user is None and not settings.PREDICT_ALLOW_ANONYMOUS:
        return Refusal(401, "not_authenticated", LOGIN_REQUIRED, {"WWW-Authenticate": "Token"})
    if (wait := throttling.admit(request, user)) is not None:
        return Refusal(429, "throttled", throttling.message(wait), {"Retry-After": str(wait)})
    return None
