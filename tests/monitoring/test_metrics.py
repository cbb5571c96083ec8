"""GET /metrics: Prometheus text that moves when predictions and requests happen, read with Prometheus's parser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import DIAMOND, IRIS_VIRGINICA

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def scrape(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_predictions_move_the_prediction_metrics(client, api_client):
    before = scrape(client)
    for _ in range(3):
        assert api_client.post("/api/models/iris/predict", IRIS_VIRGINICA, format="json").status_code == 201
    assert api_client.post("/api/models/iris/predict", {"sepal_length": -1}, format="json").status_code == 400
    assert api_client.post("/api/models/diamonds/predict", [DIAMOND, DIAMOND], format="json").status_code == 201
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    iris_ok = {"model": "iris", "version": "1", "channel": "api"}
    assert moved("mlsite_predictions_total", **iris_ok, status="ok") == 3
    assert moved("mlsite_predictions_total", **iris_ok, status="rejected") == 1
    assert moved("mlsite_prediction_latency_seconds_count", **iris_ok, status="ok") == 3
    assert moved("mlsite_prediction_latency_seconds_sum", **iris_ok, status="ok") > 0
    assert moved("mlsite_predictions_total", model="diamonds", version="1", channel="api", status="ok") == 2
    assert moved("mlsite_batch_rows_count", model="diamonds", channel="api") == 1
    assert moved("mlsite_batch_rows_sum", model="diamonds", channel="api") == 2


def test_http_requests_are_counted_by_url_name_and_status(client, api_client):
    before = scrape(client)
    api_client.post("/api/models/iris/predict", IRIS_VIRGINICA, format="json")
    api_client.post("/api/models/iris/predict", {"sepal_length": "x"}, format="json")
    client.get("/no/such/page/1")
    client.get("/no/such/page/2")
    after = scrape(client)

    def moved(**labels):
        name = "mlsite_http_request_duration_seconds_count"
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(endpoint="api-predict", method="POST", status="201") == 1
    assert moved(endpoint="api-predict", method="POST", status="400") == 1
    assert moved(endpoint="<unresolved>", method="GET", status="404") == 2  # one series, not one per path
    assert not any("no/such" in str(key) for key in after)
    assert value(after, "mlsite_http_request_duration_seconds_bucket", endpoint="api-predict", method="POST",
                 status="201", le="+Inf") >= 1


def test_loaded_models_are_reported(client):
    client.get("/readyz")  # loads the default versions of this test's MODEL_DIR
    samples = scrape(client)
    assert value(samples, "mlsite_model_loaded", model="iris", version="1", algorithm="logistic_regression") == 1
    assert value(samples, "mlsite_model_loaded", model="diamonds", version="1",
                 algorithm="hist_gradient_boosting") == 1


def test_openmetrics_is_served_to_a_scraper_that_asks_for_it(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


def test_in_multiprocess_mode_the_samples_of_every_worker_are_summed(client, tmp_path, monkeypatch):
    # Two "workers": separate processes that write their samples to the shared directory, as gunicorn's do.
    worker = ("from predictions.domain import metrics; "
              "metrics.PREDICTIONS.labels('iris', '1', 'form', 'ok').inc(int(__import__('sys').argv[1]))")
    for count in ("4", "3"):
        subprocess.run([sys.executable, "-c", worker, count], cwd=ROOT, check=True, timeout=60,
                       env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert len(list(tmp_path.glob("counter_*.db"))) == 2
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    samples = scrape(client)
    assert value(samples, "mlsite_predictions_total", model="iris", version="1", channel="form", status="ok") == 7
