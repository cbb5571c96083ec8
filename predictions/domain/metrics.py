"""Prometheus metrics of the prediction path and of HTTP requests; their names are a contract (docs/architecture.md).

Created at import; under gunicorn, PROMETHEUS_MULTIPROC_DIR is set before the app is imported, so every worker
writes its samples to shared files and /metrics sums them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# The label value that stands for any model name or version taken from a request that names no existing model:
# labels must come from a bounded set, or every random name in a URL would add a time series.
UNKNOWN = "unknown"

PREDICTION_LATENCY = Histogram(
    "mlsite_prediction_latency_seconds",
    "Time spent scoring one request (single input or whole batch).",
    ["model", "version", "channel", "status"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PREDICTIONS = Counter(
    "mlsite_predictions",  # exposed as mlsite_predictions_total
    "Scored or rejected inputs, one per history row.",
    ["model", "version", "channel", "status"],
)
HISTORY_WRITE_FAILURES = Counter(
    "mlsite_history_write_failures",
    "Attempts to write history rows that failed because the database was unavailable.",
    ["mode"],
)
HISTORY_LOST_RECORDS = Counter(
    "mlsite_history_lost_records",
    "Inputs answered in best_effort mode whose history row could not be written.",
    ["model", "channel"],
)
RATE_LIMIT_FAILURES = Counter(
    "mlsite_rate_limit_failures",
    "Predict calls let through unthrottled because the rate limit's store was unavailable.",
    # A labelled metric writes its multiprocess file on first use, not at import: processes that import this
    # module before PROMETHEUS_MULTIPROC_DIR exists (docker/wait_for_db.py) must not fail on it.
    ["store"],
)
BATCH_ROWS = Histogram(
    "mlsite_batch_rows",
    "Rows per batch request.",
    ["model", "channel"],
    buckets=(1, 10, 100, 1000, 10_000, 100_000),
)
MODEL_INFO = Gauge(
    "mlsite_model_loaded",
    "1 for each model version loaded in this process, with its algorithm.",
    ["model", "version", "algorithm"],
    multiprocess_mode="livemax",  # a worker that exits (gunicorn's child_exit) stops reporting its models
)
HTTP_REQUEST_DURATION = Histogram(
    "mlsite_http_request_duration_seconds",
    "Time from the first middleware to the response, by resolved URL name, method and status ("
    "its _count is the request count).",
    ["endpoint", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def record_loaded_models(models: Iterable[Any]) -> None:
    """Set mlsite_model_loaded for each loaded model (ml.LoadedModel)."""
    for model in models:
        MODEL_INFO.labels(model.name, model.version, model.manifest.get("algorithm", "")).set(1)
