"""GET /metrics in the Prometheus text format, and the middleware that times every HTTP request.

Under gunicorn each worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py prepares a
fresh directory and drops dead workers' live gauges), and a scrape sums them, whichever worker answers it. Without
that variable (runserver, tests) the process's own registry is exposed.

HTTP requests are labelled with the resolved URL name (``api-predict``, ``admin:index``), never the raw path, so a
scan of random URLs cannot create one time series per path; unresolved paths are ``<unresolved>`` and unknown
methods ``other``. django-prometheus was not used: its latency histogram has no status label, and its middleware pair
updates a dozen metrics on every request of the hot path where this one updates one histogram.
"""

from __future__ import annotations

import os
import time

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.exposition import choose_encoder

from predictions.domain import metrics
from predictions.domain.serving import get_registry

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED = "<unresolved>"


class RequestMetricsMiddleware:
    """Outermost middleware: the time it sees is the time Django spent on the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        endpoint = match.view_name if match is not None else UNRESOLVED
        method = request.method if request.method in _METHODS else "other"
        metrics.HTTP_REQUEST_DURATION.labels(endpoint, method, str(response.status_code)).observe(
            time.perf_counter() - started)
        return response


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    # Models loaded after start-up (a non-default version asked for by a client) are reported too.
    metrics.record_loaded_models(get_registry().loaded_models())
    # The format the scraper asks for (OpenMetrics, text 1.0.0); the classic text format 0.0.4 otherwise.
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(_registry()), content_type=content_type)
