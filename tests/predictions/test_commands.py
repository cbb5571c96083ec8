from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

import ml
from predictions.domain import services
from predictions.management.durations import parse_duration
from predictions.models import Channel, ModelVersion, Prediction, PredictionBatch, RegisteredModel
from tests.conftest import IRIS_VIRGINICA

pytestmark = pytest.mark.django_db
API = services.Origin(channel=Channel.API)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_purge_deletes_only_old_rows_in_batches_and_says_how_many():
    services.prediction_batch_create(model_name="iris", rows=[IRIS_VIRGINICA] * 7, origin=API)
    keep = services.prediction_create(model_name="iris", inputs=IRIS_VIRGINICA, origin=API)
    Prediction.objects.exclude(pk=keep.pk).update(created_at=timezone.now() - timedelta(days=100))
    PredictionBatch.objects.update(created_at=timezone.now() - timedelta(days=100))
    assert "would delete 7 predictions" in run("purge_predictions", "--older-than", "90d", "--dry-run")
    assert Prediction.objects.count() == 8
    output = run("purge_predictions", "--older-than", "90d", "--batch-size", "3")
    assert "deleted 7 predictions and 1 batches" in output
    assert list(Prediction.objects.values_list("pk", flat=True)) == [keep.pk]
    assert not PredictionBatch.objects.exists()


def test_purge_refuses_a_duration_it_cannot_read():
    with pytest.raises(CommandError, match="not a duration"):
        run("purge_predictions", "--older-than", "ninety days")


@pytest.mark.parametrize(("text", "expected"), [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)),
                                                ("30m", timedelta(minutes=30)), ("2w", timedelta(weeks=2))])
def test_durations_read_like_operators_write_them(text, expected):
    assert parse_duration(text) == expected


@pytest.fixture
def empty_catalogue(tmp_path, settings):
    """A fresh MODEL_DIR and a catalogue that knows nothing yet, as on a new site."""
    RegisteredModel.objects.all().delete()
    settings.MODEL_DIR = tmp_path
    return tmp_path


def test_train_writes_a_new_version_adds_it_to_the_catalogue_and_prints_metrics(empty_catalogue):
    output = run("train", "iris")
    assert "iris v1 (logistic_regression)" in output and "accuracy" in output
    assert "version 1 in the catalogue, not retraining" in run("train", "iris", "--missing")
    assert (empty_catalogue / "iris" / "1" / "manifest.json").is_file()
    row = ModelVersion.objects.get(model__name="iris")
    assert (row.version, row.source, row.sha256) == (1, "trained", ml.read_manifest(empty_catalogue, "iris",
                                                                                     "1")["sha256"])


def test_models_lists_versions_pins_a_default_and_removes_a_version(empty_catalogue):
    run("train", "iris")
    run("train", "iris")
    assert [line.split()[:3] for line in run("models").splitlines() if line.startswith("iris")][0] == [
        "iris", "2", "default"]
    output = run("models", "--pin", "iris=1")
    assert "v1 pinned" in output
    assert "default" in [line for line in output.splitlines() if line.startswith("iris") and " 1 " in line][0]
    with pytest.raises(CommandError):
        run("models", "--pin", "iris=9")
    output = run("models", "--remove", "iris=1")
    assert [line.split()[:3] for line in output.splitlines() if line.startswith("iris ")] == [
        ["iris", "2", "default"]]
    assert (empty_catalogue / "iris" / "1.removed").is_dir()  # retired, never reused
    assert "iris v3" in run("train", "iris")
