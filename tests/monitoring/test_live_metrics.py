"""/metrics under a real gunicorn with two workers: every scrape sums all workers, even after one is killed."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import IRIS_VIRGINICA
from tests.hardening.live import request, start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.slow]

PREDICTIONS = 24
MAX_PREDICTIONS = 480


def writers(tmp_path) -> set[str]:
    """The pids of the workers that wrote a counter file (prometheus_client multiprocess mode)."""
    return {p.stem.rsplit("_", 1)[-1] for p in (tmp_path / "prometheus").glob("counter_*.db")}


def scrape(server) -> dict[tuple[str, frozenset], float]:
    status, _, body = request(server, "GET", "/metrics")
    assert status == 200
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(body.decode()) for s in family.samples}


def test_every_scrape_sums_the_samples_of_all_workers(trained_model_dir, tmp_path):
    server = start_gunicorn(db_settings=connection.settings_dict, model_dir=trained_model_dir, tmp_path=tmp_path)
    try:
        # Four clients at a time, so that both workers answer (sequential requests may all land on one of them),
        # until each worker has written its own counter file.
        sent = 0
        with ThreadPoolExecutor(4) as pool:
            while sent < MAX_PREDICTIONS:
                statuses = list(pool.map(lambda _: request(server, "POST", "/api/models/iris/predict",
                                                           IRIS_VIRGINICA)[0], range(PREDICTIONS)))
                assert statuses == [201] * PREDICTIONS
                sent += PREDICTIONS
                if len(writers(tmp_path)) >= 2:
                    break
        assert len(writers(tmp_path)) >= 2, "only one worker answered; the test proves nothing"
        predictions = ("mlsite_predictions_total",
                       frozenset({"model": "iris", "version": "1", "channel": "api", "status": "ok"}.items()))
        http = ("mlsite_http_request_duration_seconds_count",
                frozenset({"endpoint": "api-predict", "method": "POST", "status": "201"}.items()))
        for _ in range(4):  # whichever worker answers the scrape
            samples = scrape(server)
            assert samples[predictions] == sent and samples[http] == sent
        assert samples[("mlsite_model_loaded", frozenset(
            {"model": "iris", "version": "1", "algorithm": "logistic_regression"}.items()))] == 1

        victim = server.workers()[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while (victim in server.workers() or len(server.workers()) < 2) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert scrape(server)[predictions] == sent  # a dead worker's counts are kept
    finally:
        server.stop()
