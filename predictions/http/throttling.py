"""One rate of predicted rows per client (user, or IP for anonymous clients), whatever the channel.

PREDICT_THROTTLE_RATE ("20/second", "600/minute") is a budget of rows: a single prediction costs one, a batch of
1,000 rows (JSON array, V2 tensor, MLflow frame, CSV upload) costs 1,000. It is enforced as a generic cell rate
(GCRA, a token bucket stored as one timestamp per client): a client may send up to the rate's count at once, then
at the rate. A call is admitted when the client is within its budget and costs one row; once its body is read, a
batch is charged its other rows, which may take the client into debt: it is then refused (429 + Retry-After) until
the debt is paid. So a batch larger than the budget is still served, once, and the rows a client is served never
exceed the rate over time.

The REST API applies the gate through DRF's throttle_classes; the legacy, V2, MLflow and HTML endpoints through
predictions.http.access, and answer 429 in their own error shape. A refused call is answered before its body is read and
is not recorded: recording it would hand the database the very load the rate limits.

Where the state lives: with REDIS_URL (compose runs Redis by default) in Redis, updated by one Lua script on Redis's
own clock, so that every worker and replica shares one exact count; otherwise in this process's memory under a lock
(`make run`, one process).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import cache as memoize

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

from predictions.domain import metrics
from predictions.http.origin import client_ip

log = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ATTRIBUTE = "mlsite_rate_key"  # set on the request by admit(), read by charge()


@dataclass(frozen=True)
class Rate:
    count: int
    period: float  # seconds

    @property
    def interval(self) -> float:
        """Seconds one row costs."""
        return self.period / self.count

    @property
    def tolerance(self) -> float:
        """How far ahead of now a client's budget may be spent and a call still be admitted: a burst of ``count``."""
        return self.period - self.interval


@memoize
def parse_rate(text: str | None) -> Rate | None:
    """DRF's syntax: "<count>/<period>", the period by its first letter (s, m, h, d); None or "off": no limit."""
    if not text or text.lower() in ("off", "none", "0"):
        return None
    count, _, period = text.partition("/")
    return Rate(int(count), float(_PERIODS[period.strip()[:1].lower()]))


def _key(request, user) -> str:
    ident = user.pk if user is not None and user.is_authenticated else client_ip(request)
    return f"mlsite:predict-rate:{ident}"


def admit(request, user=None) -> int | None:
    """Admit one predict call of ``user`` (None: the client's IP) and charge it one row. None when it may go ahead,
    else the whole seconds the client should wait."""
    rate = parse_rate(settings.PREDICT_THROTTLE_RATE)
    if rate is None:
        return None
    key = _key(request, user)
    wait = _spend(key, rate, rows=1, check=True)
    if wait is not None:
        return max(1, math.ceil(wait))
    setattr(getattr(request, "_request", request), _ATTRIBUTE, key)
    return None


def charge(request, rows: int) -> None:
    """Charge an admitted call ``rows`` more rows (a batch's rows beyond its first), even into debt."""
    key = getattr(getattr(request, "_request", request), _ATTRIBUTE, None)
    rate = parse_rate(settings.PREDICT_THROTTLE_RATE)
    if key is None or rate is None or rows <= 0:
        return
    _spend(key, rate, rows=rows, check=False)


def message(seconds: int) -> str:
    return f"Too many predictions; try again in {seconds} second{'s' if seconds != 1 else ''}."


class PredictThrottle(BaseThrottle):
    """admit() as a DRF throttle: the REST predict endpoint counts against the same budget as every other channel."""

    def allow_request(self, request, view) -> bool:
        self._wait = admit(request, request.user)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait


# --- storage ------------------------------------------------------------------------------------------------------
# GCRA: the state is the "theoretical arrival time" (TAT) at which the client's spent budget is paid back. A call is
# admitted when TAT - now <= tolerance; spending n rows moves TAT (from now at the earliest) n intervals ahead.
_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval, tolerance, rows = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local stored = redis.call('GET', KEYS[1])
local tat = stored and tonumber(stored) or now
if tat < now then tat = now end
if ARGV[4] == '1' and tat - now > tolerance then
  return tostring(tat - now - tolerance)
end
tat = tat + interval * rows
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return ''
"""
_lock = threading.Lock()
_script = None  # redis-py's Script: EVALSHA, loading the script into a Redis server that does not know it yet


def _spend(key: str, rate: Rate, *, rows: int, check: bool) -> float | None:
    """Spend ``rows`` of the budget at ``key``; with ``check``, only if the client is within it. Returns the seconds
    to wait when refused, else None."""
    global _script
    redis = _redis_client(key)
    if redis is not None:
        try:
            if _script is None:
                _script = redis.register_script(_SCRIPT)
            wait = _script(keys=[cache.make_and_validate_key(key)],
                           args=[repr(rate.interval), repr(rate.tolerance), rows, "1" if check else "0"],
                           client=redis)
        except RedisError as exc:
            # Fail open: an outage of the rate limit's store must not take every prediction down with it.
            log.warning("rate limit not applied, Redis unavailable: %s", exc)
            metrics.RATE_LIMIT_FAILURES.labels("redis").inc()
            return None
        wait = wait.decode() if isinstance(wait, bytes) else wait
        return float(wait) if wait else None
    with _lock:
        now = time.time()
        tat = max(cache.get(key) or now, now)
        if check and tat - now > rate.tolerance:
            return tat - now - rate.tolerance
        tat += rate.interval * rows
        cache.set(key, tat, timeout=math.ceil(tat - now) + 1)
        return None


def _redis_client(key: str):
    """The redis-py client behind Django's Redis cache, or None for any other cache backend."""
    if not settings.CACHES["default"]["BACKEND"].endswith(".RedisCache"):
        return None
    return cache._cache.get_client(key, write=True)  # Django's RedisCacheClient; the script needs the client itself
