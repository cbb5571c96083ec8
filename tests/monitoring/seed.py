"""A realistic day of history for dashboard tests: rows through the real services, spread over the last hours."""

from __future__ import annotations

import json
import random
import shutil
from datetime import timedelta
from functools import cache
from pathlib import Path

from django.utils import timezone

import ml
from predictions.domain import services
from predictions.models import Channel, Prediction


def models_without_reference(trained_model_dir: Path, tmp_path: Path) -> Path:
    """A copy of the trained models whose iris manifest lost its training distribution (as an older artifact's)."""
    models = tmp_path / "models"
    shutil.copytree(trained_model_dir, models)
    path = models / "iris" / "1" / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["reference"]
    path.write_text(json.dumps(manifest))
    return models


@cache
def _data(name: str):
    return ml.get_recipe(name).load_data()


def _records(name: str, n: int, seed: int) -> list[dict]:
    X = _data(name).X.sample(n=n, random_state=seed, replace=n > len(_data(name).X))
    return [{k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()} for row in X.to_dict("records")]


def diamond_rows(n: int, *, seed: int = 3, carat_factor: float = 1.0) -> list[dict]:
    rows = _records("diamonds", n, seed)
    for row in rows:
        row["carat"] = round(min(row["carat"] * carat_factor, 9.9), 2)
    return rows


def _spread(rows: list[Prediction], hours: int, rng: random.Random) -> None:
    now = timezone.now()
    for row in rows:
        Prediction.objects.filter(pk=row.pk).update(
            created_at=now - timedelta(seconds=rng.uniform(0, hours * 3600 * 0.98)))


def seed_history(*, diamonds: int = 600, iris: int = 120, hours: int = 24, shifted: bool = True) -> None:
    """Diamonds through a CSV-like batch (half of them heavier stones, so carat drifts), a few rejected rows,
    iris through the API, and reviewer feedback on some of each."""
    rng = random.Random(5)
    batch = services.Origin(channel=Channel.BATCH)
    rows = diamond_rows(diamonds // 2) + diamond_rows(diamonds // 2, seed=4, carat_factor=1.8 if shifted else 1)
    rows += [{"carat": -1, "cut": "Ideal"}] * max(diamonds // 40, 1)
    outcome = services.prediction_batch_create(model_name="diamonds", rows=rows, origin=batch, max_rows=len(rows))
    _spread(outcome.rows, hours, rng)
    for record in outcome.rows[: diamonds // 10]:
        if record.status == "ok":
            noisy = record.outputs["prediction"] * rng.uniform(0.85, 1.15)
            services.prediction_feedback_set(prediction=record, actual=round(noisy, 2), reviewer=None)
    api = services.Origin(channel=Channel.API)
    made = [services.prediction_create(model_name="iris", inputs=inputs, origin=api)
            for inputs in _records("iris", iris, seed=6)]
    _spread(made, hours, rng)
    for i, record in enumerate(made[: iris // 4]):
        actual = record.outputs["label"] if i % 6 else "versicolor"
        services.prediction_feedback_set(prediction=record, actual=actual, reviewer=None)
