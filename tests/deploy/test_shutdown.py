"""SIGTERM (what `docker compose stop` sends) while a long batch is being scored: the answer still reaches the client,
because gunicorn.conf.py's graceful timeout outlasts the longest request a worker may serve."""

from __future__ import annotations

import http.client
import json
import signal
import threading
import time
import uuid

import pytest
from django.db import connection

from predictions.models import PredictionBatch
from tests.conftest import IRIS_VIRGINICA
from tests.hardening.live import start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROWS = 30_000  # several seconds of scoring and recording on a 2-core machine


def post(port: int, request_id: str, body: bytes, outcome: dict) -> None:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection_.request("POST", "/api/models/iris/predict", body=body, headers={
            "Content-Type": "application/json", "X-Request-ID": request_id, "Host": "localhost"})
        response = connection_.getresponse()
        outcome.update(status=response.status, body=response.read(), at=time.monotonic())
    except (OSError, http.client.HTTPException) as exc:
        outcome.update(status=None, error=repr(exc), at=time.monotonic())
    finally:
        connection_.close()


def test_sigterm_during_a_long_batch_still_answers_the_client(trained_model_dir, tmp_path):
    # gunicorn.conf.py's own timeouts (not the short ones the fault tests use)
    server = start_gunicorn(db_settings=connection.settings_dict, model_dir=trained_model_dir, tmp_path=tmp_path,
                            workers=1, short_timeouts=False, extra_env={
                                "PREDICT_MAX_BATCH_ROWS": str(ROWS), "DATA_UPLOAD_MAX_MEMORY_SIZE": str(10 ** 8)})
    request_id = str(uuid.uuid4())
    body = json.dumps([IRIS_VIRGINICA] * ROWS).encode()
    outcome: dict = {}
    try:
        client = threading.Thread(target=post, args=(server.port, request_id, body, outcome))
        client.start()
        time.sleep(1.0)  # the upload is in the worker now
        terminated_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        client.join(timeout=120)
        assert server.process.wait(timeout=120) == 0
    finally:
        server.stop()
    assert outcome.get("status") == 201, (outcome, server.log()[-3000:])
    assert outcome["at"] > terminated_at  # the answer came after the signal, not before it
    batch = PredictionBatch.objects.get(request_id=request_id)
    assert (batch.rows_total, batch.rows_ok) == (ROWS, ROWS)
    assert json.loads(outcome["body"])["batch_id"] == batch.pk
