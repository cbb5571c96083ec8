"""One rate of predict calls per client (user, or IP for anonymous clients), whatever the channel.

The REST API applies it through DRF's throttle_classes; the legacy, V2, MLflow and HTML endpoints through
predictions.access, and answer 429 in their own error shape. All of them count against the same cache key,
so a client over PREDICT_THROTTLE_RATE on one channel cannot carry on through another. A throttled call is answered
before its body is read and is not recorded: recording it would hand the database the very load the rate limits.
"""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

_REQUEST_USER = object()


class PredictThrottle(SimpleRateThrottle):
    """Per user (or per IP for anonymous clients) rate of predict calls: PREDICT_THROTTLE_RATE, None = off.

    Counters live in the default cache: per process with the local-memory cache, shared by every worker and host
    when REDIS_URL is set.
    """

    scope = "predict"

    def __init__(self, user=_REQUEST_USER) -> None:
        super().__init__()
        self.user = user  # DRF's views count request.user; the other surfaces say whom they authenticated

    def get_rate(self) -> str | None:
        return settings.PREDICT_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None) if self.user is _REQUEST_USER else self.user
        ident = user.pk if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def retry_after(request, user=None) -> int | None:
    """Count this predict call of ``user`` (None: the client's IP); None when it may go ahead, else the whole
    seconds the client should wait."""
    throttle = PredictThrottle(user)
    if throttle.allow_request(request, None):
        return None
    return max(1, math.ceil(throttle.wait() or 1))


def message(seconds: int) -> str:
    return f"Too many predictions; try again in {seconds} second{'s' if seconds != 1 else ''}."
