"""The dashboard's reads (predictions/domain/stats.py) against hand-computed values on small fixtures."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import pytest
from django.utils import timezone

import ml
from predictions.domain import services, stats
from predictions.models import Channel, Prediction, Status
from tests.conftest import DIAMOND, IRIS_VIRGINICA
from tests.monitoring.seed import models_without_reference

pytestmark = pytest.mark.django_db

API = services.Origin(channel=Channel.API)
IRIS_SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}


def window(hours: int = 1):
    end = timezone.now() + timedelta(seconds=1)
    return {"start": end - timedelta(hours=hours), "end": end}


def predict(model: str, inputs: dict, **update) -> Prediction:
    row = services.prediction_create(model_name=model, inputs=inputs, origin=API)
    if update:
        Prediction.objects.filter(pk=row.pk).update(**update)
        row.refresh_from_db()
    return row


def test_volume_counts_each_status_in_its_hour_and_fills_empty_hours():
    now = timezone.now().replace(second=0, microsecond=0)
    for hours_ago, status in [(0, Status.OK), (0, Status.OK), (0, Status.REJECTED), (2, Status.OK), (2, Status.ERROR)]:
        predict("iris", IRIS_VIRGINICA, created_at=now - timedelta(hours=hours_ago), status=status)
    predict("diamonds", DIAMOND, created_at=now)  # another model: not counted
    predict("iris", IRIS_VIRGINICA, created_at=now - timedelta(hours=30))  # outside the window
    series = stats.volume_series(model="iris", start=now - timedelta(hours=24), end=now + timedelta(minutes=1),
                                 bucket="hour")
    assert len(series) == 25
    by_hour = {b.start: b for b in series}
    current = by_hour[now.replace(minute=0)]  # the rows' own hours, whatever minute the test runs at
    assert (current.ok, current.rejected, current.error) == (2, 1, 0)
    earlier = by_hour[now.replace(minute=0) - timedelta(hours=2)]
    assert (earlier.ok, earlier.rejected, earlier.error) == (1, 0, 1)
    assert sum(b.total for b in series) == 5


def test_latency_percentiles_interpolate_like_percentile_cont():
    for ms in range(1, 101):
        predict("iris", IRIS_VIRGINICA, latency_ms=float(ms))
    predict("iris", IRIS_VIRGINICA, latency_ms=5000.0, status=Status.ERROR)  # failures are not scoring latency
    found = stats.latency_stats(model="iris", **window())
    assert found.count == 100
    assert found.p50 == pytest.approx(50.5)
    assert found.p95 == pytest.approx(95.05)
    assert found.p99 == pytest.approx(99.01)
    assert found.mean == pytest.approx(50.5) and found.maximum == 100.0


def test_latency_of_an_empty_window_is_empty():
    found = stats.latency_stats(model="iris", **window())
    assert found.count == 0 and found.p50 is None


def test_class_mix_counts_predicted_labels_next_to_the_training_shares():
    for _ in range(3):
        predict("iris", IRIS_VIRGINICA)
    predict("iris", IRIS_SETOSA)
    version, manifest, _ = stats.served_manifest("iris")
    mix = stats.class_mix(model="iris", manifest=manifest, **window())
    assert [(c.label, c.count) for c in mix] == [("setosa", 1), ("versicolor", 0), ("virginica", 3)]
    assert mix[2].fraction == 0.75
    assert sum(c.training_fraction for c in mix) == pytest.approx(1.0)


def test_value_histogram_bins_predictions_in_the_database():
    _, manifest, _ = stats.served_manifest("diamonds")
    hist = stats.value_histogram(model="diamonds", manifest=manifest, **window())
    width = hist.width
    assert width in (500, 1000)  # a round width: the training prices' 95th percentile is about 13,000 USD
    for price in (0.4 * width, 0.9 * width, 2.5 * width, 100 * width):
        predict("diamonds", DIAMOND, outputs={"prediction": price})
    hist = stats.value_histogram(model="diamonds", manifest=manifest, **window())
    assert hist.counts[0] == 2 and hist.counts[2] == 1
    assert hist.counts[-1] == 1  # far above the training range: the open last bin
    assert hist.total == 4


def test_live_accuracy_matches_the_reviewed_rows():
    reviewer = None
    rows = [predict("iris", IRIS_VIRGINICA) for _ in range(3)] + [predict("iris", IRIS_SETOSA)]
    predict("iris", IRIS_SETOSA)  # never reviewed: not part of the figure
    for row, actual in zip(rows, ["virginica", "virginica", "versicolor", "setosa"], strict=True):
        services.prediction_feedback_set(prediction=row, actual=actual, reviewer=reviewer)
    quality = stats.live_quality(model="iris", scored=5, manifest=None, **window())
    assert quality.reviewed == 4
    assert quality.accuracy == pytest.approx(3 / 4)
    assert quality.confusion == {("virginica", "virginica"): 2, ("versicolor", "virginica"): 1,
                                 ("setosa", "setosa"): 1}


def test_live_mae_and_mape_match_hand_computed_values():
    pairs = [(1000.0, 1100.0), (2000.0, 1800.0), (4000.0, 4000.0)]  # (predicted, actual)
    for predicted, actual in pairs:
        row = predict("diamonds", DIAMOND, outputs={"prediction": predicted})
        services.prediction_feedback_set(prediction=row, actual=actual, reviewer=None)
    predict("diamonds", DIAMOND)
    quality = stats.live_quality(model="diamonds", scored=4, manifest=None, **window())
    assert quality.reviewed == 3
    assert quality.mae == pytest.approx((100 + 200 + 0) / 3)
    assert quality.mape == pytest.approx((100 / 1100 + 200 / 1800 + 0) / 3)
    assert quality.accuracy is None


def test_live_quality_without_feedback_rests_on_nothing():
    predict("diamonds", DIAMOND)
    quality = stats.live_quality(model="diamonds", scored=1, manifest=None, **window())
    assert quality.reviewed == 0 and quality.mae is None


# --- drift ----------------------------------------------------------------------------------------------------------
@cache
def diamonds_data():
    return ml.get_recipe("diamonds").load_data().X


def training_like_rows(n: int, seed: int = 7) -> list[dict]:
    """Rows of the diamonds data itself, as a client would send them."""
    X = diamonds_data().sample(n=n, random_state=seed)
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in X.to_dict("records")]


def score(rows: list[dict]) -> None:
    services.prediction_batch_create(model_name="diamonds", rows=rows, origin=services.Origin(channel=Channel.BATCH),
                                     max_rows=len(rows))


def test_drift_stays_quiet_on_training_like_inputs():
    score(training_like_rows(2000))
    report = stats.input_drift(model="diamonds", **window())
    assert report.rows == 2000 and report.sampled == 2000
    assert [f.name for f in report.features] == list(ml.get_recipe("diamonds").card.schema.names)
    assert all(f.level == "stable" for f in report.features), [(f.name, f.psi) for f in report.features]
    assert report.worst == "stable"


def test_drift_flags_the_shifted_feature_only():
    rows = training_like_rows(2000)
    for row in rows:
        row["carat"] = round(min(row["carat"] * 1.8, 9.9), 2)  # the stones got much heavier
    score(rows)
    report = stats.input_drift(model="diamonds", **window())
    levels = {f.name: f.level for f in report.features}
    assert levels["carat"] == "significant"
    assert levels["cut"] == levels["color"] == levels["clarity"] == levels["depth"] == "stable"
    assert report.worst == "significant"


def test_drift_samples_evenly_above_the_limit():
    score(training_like_rows(600))
    report = stats.input_drift(model="diamonds", limit=100, **window())
    assert report.rows == 600
    assert 90 <= report.sampled <= 100
    assert all(f.rows == report.sampled for f in report.features)


def test_drift_of_an_empty_window_says_no_data():
    report = stats.input_drift(model="iris", **window())
    assert report.rows == 0
    assert {f.level for f in report.features} == {"no data"} and report.worst == "no data"


def test_drift_explains_a_manifest_without_reference(trained_model_dir, settings, tmp_path):
    settings.MODEL_DIR = models_without_reference(trained_model_dir, tmp_path)
    report = stats.input_drift(model="iris", **window())
    assert report.features == [] and "retrain" in report.problem
