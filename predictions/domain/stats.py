"""Reads of the monitoring dashboard and of drift_report: volume, latency, outputs, input drift, live quality.

Every query is bounded to one model and a time window on ``created_at``, which the (model_name, created_at DESC)
index answers, and aggregates in the database: time buckets, status counts, percentiles, histogram bins and
feedback errors come back as a few rows, never as the window's rows. Two figures work on a bounded sample instead:
input drift (PSI needs every feature of a row binned against the manifest's reference; an evenly spread sample of
DRIFT_SAMPLE_ROWS rows measures it as well as all of them, see drift_sample) and latency percentiles on SQLite,
which has no percentile_cont.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Aggregate, Avg, Count, FloatField, IntegerField, Max, QuerySet
from django.db.models.fields.json import KT
from django.db.models.functions import Abs, Cast, Floor, Least, Mod, TruncDay, TruncHour, TruncMinute

import ml
from predictions.domain.serving import get_registry
from predictions.models import Prediction, Status

DRIFT_SAMPLE_ROWS = 10_000
LATENCY_SAMPLE_ROWS = 10_000  # SQLite only
PRICE_BINS = 20  # bins of the predicted-value histogram; the last one is open-ended


# --- windows --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    key: str
    span: timedelta
    bucket: str  # "minute", "hour" or "day": the time bucket of the volume chart
    cache_seconds: int  # how long the dashboard may show figures this old (bench/README.md "Dashboard")


WINDOWS = {
    "1h": Window("1h", timedelta(hours=1), "minute", 0),
    "24h": Window("24h", timedelta(hours=24), "hour", 15),
    "7d": Window("7d", timedelta(days=7), "hour", 60),
    "30d": Window("30d", timedelta(days=30), "day", 300),
}
def _window_rows(model: str, start: datetime, end: datetime) -> QuerySet[Prediction]:
    return Prediction.objects.filter(model_name=model, created_at__gte=start, created_at__lt=end).order_by()


# --- volume ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VolumeBucket:
    start: datetime
    ok: int = 0
    rejected: int = 0
    error: int = 0

    @property
    def total(self) -> int:
        return self.ok + self.rejected + self.error


_TRUNC = {"minute": (TruncMinute, timedelta(minutes=1)), "hour": (TruncHour, timedelta(hours=1)),
          "day": (TruncDay, timedelta(days=1))}


def _floor(moment: datetime, bucket: str) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    if bucket in ("hour", "day"):
        moment = moment.replace(minute=0)
    if bucket == "day":
        moment = moment.replace(hour=0)
    return moment


def volume_series(*, model: str, start: datetime, end: datetime, bucket: str) -> list[VolumeBucket]:
    """Rows per time bucket and status, every bucket of the window present (empty ones as zeros)."""
    trunc, step = _TRUNC[bucket]
    counts: dict[datetime, dict[str, int]] = {}
    rows = (_window_rows(model, start, end).annotate(bucket=trunc("created_at")).values("bucket", "status")
            .annotate(n=Count("id")))
    for row in rows:
        counts.setdefault(row["bucket"], {})[row["status"]] = row["n"]
    series = []
    moment = _floor(start, bucket)
    while moment < end:
        found = counts.get(moment, {})
        series.append(VolumeBucket(moment, found.get(Status.OK, 0), found.get(Status.REJECTED, 0),
                                   found.get(Status.ERROR, 0)))
        moment += step
    return series


# --- latency --------------------------------------------------------------------------------------------------------
class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate; several of them over the same column share one sort."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


@dataclass(frozen=True)
class LatencyStats:
    count: int
    p50: float | None = None
    p95: float | None = None
    p99: float | None = None
    mean: float | None = None
    maximum: float | None = None
    sampled: int | None = None  # the percentiles rest on this many newest rows instead of all of them


def latency_stats(*, model: str, start: datetime, end: datetime) -> LatencyStats:
    """Scoring latency (ms) of the window's scored rows: exact percentiles on PostgreSQL."""
    rows = _window_rows(model, start, end).filter(status=Status.OK, latency_ms__isnull=False)
    if connection.vendor == "postgresql":
        found = rows.aggregate(count=Count("id"), mean=Avg("latency_ms"), maximum=Max("latency_ms"),
                               p50=PercentileCont("latency_ms", 0.5), p95=PercentileCont("latency_ms", 0.95),
                               p99=PercentileCont("latency_ms", 0.99))
        return LatencyStats(**found)
    found = rows.aggregate(count=Count("id"), mean=Avg("latency_ms"), maximum=Max("latency_ms"))
    if not found["count"]:
        return LatencyStats(count=0)
    values = list(rows.order_by("-created_at").values_list("latency_ms", flat=True)[:LATENCY_SAMPLE_ROWS])
    p50, p95, p99 = (float(v) for v in np.percentile(values, [50, 95, 99]))  # linear, as percentile_cont
    return LatencyStats(p50=p50, p95=p95, p99=p99, sampled=len(values) if len(values) < found["count"] else None,
                        **found)


# --- outputs --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ClassShare:
    label: str
    count: int
    fraction: float
    training_fraction: float | None


def class_mix(*, model: str, start: datetime, end: datetime, manifest: dict[str, Any] | None) -> list[ClassShare]:
    """Predicted classes of a classifier in the window, next to their share in the training data."""
    card = get_registry().card(model)
    counts = {row["label"]: row["n"] for row in _window_rows(model, start, end).filter(status=Status.OK)
              .values(label=KT("outputs__label")).annotate(n=Count("id"))}
    total = sum(counts.values())
    training = ((manifest or {}).get("target_reference") or {}).get("fractions") or []
    return [ClassShare(label, counts.get(label, 0), counts.get(label, 0) / total if total else 0.0,
                       training[i] if i < len(training) else None) for i, label in enumerate(card.labels)]


@dataclass(frozen=True)
class Histogram:
    width: float
    counts: list[int]  # bin i holds [i·width, (i+1)·width); the last bin is open-ended
    training_quantiles: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts)


def _nice_width(span: float, bins: int) -> float:
    raw = max(span, 1e-9) / bins
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= raw)


def value_histogram(*, model: str, start: datetime, end: datetime, manifest: dict[str, Any] | None) -> Histogram:
    """Predicted values of a regressor in bins of a round width fitted to the training targets (up to their 95th
    percentile, with one open bin above), binned in the database."""
    quantiles = {k: float(v) for k, v in (((manifest or {}).get("target_reference") or {}).get("quantiles") or {})
                 .items()}
    top = quantiles.get("0.95") or 1.0
    width = _nice_width(top, PRICE_BINS - 1)
    value = Cast(KT("outputs__prediction"), FloatField())
    rows = (_window_rows(model, start, end).filter(status=Status.OK)
            .annotate(bin=Least(Cast(Floor(value / width), IntegerField()), PRICE_BINS - 1))
            .values("bin").annotate(n=Count("id")))
    counts = [0] * PRICE_BINS
    for row in rows:
        if row["bin"] is not None:
            counts[max(int(row["bin"]), 0)] += row["n"]
    return Histogram(width=width, counts=counts, training_quantiles=quantiles)


# --- input drift ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureDrift:
    name: str
    label: str
    psi: float | None
    level: str
    rows: int
    bins: list[str]
    expected: list[float]  # training fractions per bin
    actual: list[float]  # live fractions per bin


@dataclass(frozen=True)
class DriftReport:
    model: str
    reference_version: str | None
    rows: int  # scored rows in the window
    sampled: int  # rows the PSI rests on (all of them, or an evenly spread sample)
    features: list[FeatureDrift]
    problem: str | None = None  # why there is no reference to compare with

    @property
    def worst(self) -> str:
        levels = [f.level for f in self.features]
        return next((level for level in ("significant", "moderate", "stable") if level in levels), "no data")


def served_manifest(model: str) -> tuple[str | None, dict[str, Any] | None, str | None]:
    """(version, manifest, problem) of the model's default version, read as data (even if it fails to load)."""
    registry = get_registry()
    version = registry.default_version(model)
    if version is None:
        return None, None, f"{model} has no trained version."
    try:
        return version, ml.read_manifest(registry.model_dir, model, version), None
    except (ml.ArtifactRefused, ml.ModelNotFound) as exc:
        return version, None, str(exc)


def drift_sample(*, model: str, start: datetime, end: datetime, limit: int = DRIFT_SAMPLE_ROWS,
                 scored: int | None = None) -> tuple[int, list]:
    """(scored rows in the window, the validated inputs of at most ``limit`` of them).

    Above ``limit`` rows every k-th id is taken, so the sample spreads over the whole window rather than its
    newest minutes; the table's ids interleave every channel and model, which makes the stride as good as random
    for binning. 10,000 rows put the PSI of training-like data near 0.001, far below the 0.1 threshold.
    """
    rows = _window_rows(model, start, end).filter(status=Status.OK)
    total = rows.count() if scored is None else scored  # the dashboard knows it already: one scan less
    if total > limit:
        rows = rows.annotate(slot=Mod("id", math.ceil(total / limit))).filter(slot=0)
    return total, list(rows.values_list("inputs", flat=True)[:limit])


def input_drift(*, model: str, start: datetime, end: datetime, limit: int = DRIFT_SAMPLE_ROWS,
                scored: int | None = None) -> DriftReport:
    """PSI of each input feature in the window against the training distribution in the served manifest."""
    card = get_registry().card(model)
    version, manifest, problem = served_manifest(model)
    reference = (manifest or {}).get("reference")
    if manifest is not None and not reference:
        problem = f"{model} v{version} has no training distribution in its manifest; retrain it to get one."
    if problem:
        return DriftReport(model, version, 0, 0, [], problem)
    total, inputs = drift_sample(model=model, start=start, end=end, limit=limit, scored=scored)
    features = []
    for feature in card.schema.features:
        ref = reference.get(feature.name)
        if ref is None:
            continue
        values = [row[feature.name] for row in inputs if isinstance(row, dict) and feature.name in row]
        counts = ml.bin_counts(ref, values)
        value = ml.psi(ref["fractions"], counts)
        seen = sum(counts)
        features.append(FeatureDrift(
            name=feature.name, label=feature.label, psi=value, level=ml.psi_level(value), rows=seen,
            bins=_bin_labels(ref), expected=[float(f) for f in ref["fractions"]],
            actual=[c / seen if seen else 0.0 for c in counts],
        ))
    return DriftReport(model, version, total, len(inputs), features)


def _bin_labels(ref: dict[str, Any]) -> list[str]:
    if ref["kind"] == "category":
        return [str(b) for b in ref["bins"]]
    edges = [f"{e:g}" for e in ref["edges"]]
    return [f"< {edges[0]}"] + [f"{a}–{b}" for a, b in zip(edges, edges[1:], strict=False)] + [f"≥ {edges[-1]}"]


# --- live quality from reviewer feedback ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LiveQuality:
    reviewed: int  # scored rows of the window with a true outcome recorded
    scored: int
    accuracy: float | None = None  # classifiers
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)  # (actual, predicted) → rows
    mae: float | None = None  # regressors
    mape: float | None = None
    training_metrics: dict[str, Any] = field(default_factory=dict)


def live_quality(*, model: str, start: datetime, end: datetime, scored: int,
                 manifest: dict[str, Any] | None) -> LiveQuality:
    """Accuracy (classifiers) or MAE and MAPE (regressors) of the window's reviewed predictions."""
    card = get_registry().card(model)
    # reviewed_at is set with every actual; its partial index holds only the reviewed rows.
    rows = _window_rows(model, start, end).filter(status=Status.OK, reviewed_at__isnull=False, actual__isnull=False)
    training = {k: v for k, v in ((manifest or {}).get("metrics") or {}).items() if not isinstance(v, list)}
    if card.is_classifier:
        confusion: dict[tuple[str, str], int] = {}
        for row in rows.values("actual", predicted=KT("outputs__label")).annotate(n=Count("id")):
            key = (str(row["actual"]), str(row["predicted"]))
            confusion[key] = confusion.get(key, 0) + row["n"]
        reviewed = sum(confusion.values())
        right = sum(n for (actual, predicted), n in confusion.items() if actual == predicted)
        return LiveQuality(reviewed=reviewed, scored=scored, accuracy=right / reviewed if reviewed else None,
                           confusion=confusion, training_metrics=training)
    actual = Cast("actual", FloatField())
    error = Abs(actual - Cast(KT("outputs__prediction"), FloatField()))
    found = rows.aggregate(reviewed=Count("id"), mae=Avg(error), mape=Avg(error / actual))
    return LiveQuality(reviewed=found["reviewed"], scored=scored, mae=found["mae"], mape=found["mape"],
                       training_metrics=training)

