"""Nothing lost under load and faults: a real gunicorn (2 workers, strict mode, PostgreSQL) is driven by concurrent
clients while a worker is SIGKILLed or the database drops every connection. Afterwards the history is checked
against what each client saw. Counts are printed (run with -s) and published in bench/README.md "Reliability".
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time

import psycopg
import pytest
from django.db import connection

from predictions.models import Prediction
from tests.conftest import DIAMOND, IRIS_VIRGINICA
from tests.hardening.live import Outcome, predict_with_retry, request, start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.slow]

DURATION = float(os.environ.get("FAULT_SECONDS", "6"))
CLIENTS = 8


@pytest.fixture
def server(trained_model_dir, tmp_path):
    live = start_gunicorn(db_settings=connection.settings_dict, model_dir=trained_model_dir, tmp_path=tmp_path)
    yield live
    live.stop()


def drive(server, seconds: float, fault=None, at: float = 0.4) -> list[Outcome]:
    """CLIENTS threads predict (iris and diamonds alternately) for ``seconds``; ``fault()`` runs once, at ``at``."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        sent = 0
        while time.monotonic() < stop:
            path, body = (("/api/models/iris/predict", IRIS_VIRGINICA) if (number + sent) % 2
                          else ("/api/models/diamonds/predict", DIAMOND))
            outcome = predict_with_retry(server, path, body)
            with lock:
                outcomes.append(outcome)
            sent += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    if fault is not None:
        time.sleep(seconds * at)
        fault()
    for thread in threads:
        thread.join()
    return outcomes


def audit(outcomes: list[Outcome]) -> dict[str, int]:
    """Every 2xx answer has exactly its row; no request answered with an error has an ok row."""
    # The faults terminate every session of the test database, this test's own included: start a new one (and leave
    # a live one to the tests that run after this one in the same process).
    connection.close()
    rows = {str(r.request_id): r for r in Prediction.objects.filter(
        request_id__in=[o.request_id for o in outcomes])}
    answered = [o for o in outcomes if o.status in (200, 201)]
    failed = [o for o in outcomes if o.status not in (200, 201)]
    for outcome in answered:
        row = rows.get(outcome.request_id)
        assert row is not None, f"answered {outcome.status} without a history row: {outcome.request_id}"
        body = json.loads(outcome.body)
        assert row.status == "ok" and row.pk == body["id"] and row.outputs["prediction"] == body["prediction"]
    for outcome in failed:
        row = rows.get(outcome.request_id)
        assert row is None or row.status != "ok", f"a row exists for a request the client saw fail: {outcome}"
    return {
        "requests": len(outcomes),
        "answered_2xx": len(answered),
        "replayed_200": sum(o.status == 200 for o in outcomes),
        "retried": sum(o.attempts > 1 for o in outcomes),
        "failed_final": len(failed),
        "rows": len(rows),
        "rows_lost": 0,
        "answers_503": sum(h == 503 for o in outcomes for h in o.history),
        "no_answer": sum(h is None for o in outcomes for h in o.history),
    }


def test_a_worker_killed_mid_run_loses_nothing(server, capsys):
    killed = []

    def kill_a_worker() -> None:
        victim = server.workers()[0]
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)

    outcomes = drive(server, DURATION, kill_a_worker)
    counts = audit(outcomes)
    assert killed and counts["answered_2xx"] >= 20
    assert counts["failed_final"] == 0, [o for o in outcomes if o.status not in (200, 201)][:5]
    assert len(server.workers()) == 2, "gunicorn replaced the killed worker"
    with capsys.disabled():
        print(f"\nworker SIGKILL: {counts}")


def test_database_connections_dropped_mid_run_503_then_recovery(server, capsys):
    s = connection.settings_dict
    terminated = []
    recovered_at = []

    def drop_every_connection() -> None:
        with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname=s["NAME"],
                             autocommit=True) as admin:
            for _ in range(5):  # several times over half a second: connections are re-made in between
                rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                                     "datname = current_database() AND pid <> pg_backend_pid()").fetchall()
                terminated.append(len(rows))
                time.sleep(0.1)
        recovered_at.append(time.monotonic())

    outcomes = drive(server, DURATION, drop_every_connection)
    counts = audit(outcomes)
    assert sum(terminated) >= 2
    assert counts["answered_2xx"] >= 20
    late = [o for o in outcomes[-CLIENTS * 3:]]
    assert all(o.status in (200, 201) for o in late), "the service did not recover by itself"
    # Recovery: from the last pg_terminate_backend until a prediction answered 2xx on its first attempt.
    clean = [o.finished for o in outcomes if o.finished > recovered_at[0] and o.history == [o.status]
             and o.status in (200, 201)]
    assert clean
    counts["recovered_after_ms"] = round((min(clean) - recovered_at[0]) * 1000)
    with capsys.disabled():
        print(f"\npg_terminate_backend x{len(terminated)} ({sum(terminated)} backends): {counts}")


def test_database_refusing_connections_answers_503_retry_after_then_recovers(server, capsys):
    """A real outage, not a dropped connection: the database refuses every new session for 1.5 s."""
    s = connection.settings_dict
    marks: dict[str, object] = {}

    def outage() -> None:
        with psycopg.connect(host=s["HOST"], port=s["PORT"], user=s["USER"], dbname="postgres",
                             autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{s["NAME"]}" ALLOW_CONNECTIONS false')
            try:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                              [s["NAME"]])
                status, headers, body = request(server, "POST", "/api/models/iris/predict", IRIS_VIRGINICA)
                marks["probe"] = (status, headers.get("Retry-After", ""), body)
                time.sleep(1.5)
            finally:
                admin.execute(f'ALTER DATABASE "{s["NAME"]}" ALLOW_CONNECTIONS true')
        marks["back"] = time.monotonic()

    outcomes = drive(server, DURATION, outage, at=0.3)
    status, retry_after, body = marks["probe"]
    assert status == 503 and retry_after.isdigit(), (status, retry_after, body)
    assert json.loads(body)["error"]["code"] == "history_unavailable"
    counts = audit(outcomes)  # every 2xx has its row; no ok row for what the clients saw fail
    assert counts["answers_503"] >= 1 and counts["answered_2xx"] >= 20
    late = outcomes[-CLIENTS * 3:]
    assert all(o.status in (200, 201) for o in late), "the service did not recover by itself"
    clean = [o.finished for o in outcomes if o.finished > marks["back"] and o.history == [o.status]
             and o.status in (200, 201)]
    assert clean
    counts["recovered_after_ms"] = round((min(clean) - marks["back"]) * 1000)
    with capsys.disabled():
        print(f"\ndatabase refusing connections for 1.5 s: {counts}")
