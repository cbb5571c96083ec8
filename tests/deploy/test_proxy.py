"""The buffering proxy for real: Debian's nginx with the project's config in front of gunicorn with gunicorn.conf.py.

Slow clients: 50 connections that send their headers one byte a second. Through nginx, /healthz and a prediction
still answer; straight at gunicorn (two sync workers) the same trickle leaves them unanswered. And what else the
proxy promises: the client's address recorded (a forged X-Forwarded-For ignored), /metrics not reachable from
outside, /static/ served by nginx, bodies over the app's limit refused before they reach a worker.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
import uuid
from contextlib import contextmanager, suppress

import pytest
from django.db import connection

from predictions.models import Prediction
from tests.conftest import IRIS_VIRGINICA
from tests.deploy.nginx import start_nginx
from tests.hardening.live import free_port, start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TRICKLERS = 50
CLIENT_TIMEOUT = 10  # seconds: generous for a busy 2-core machine; the trickle lasts longer than that


@contextmanager
def trickle(port: int, *, seconds: float):
    """TRICKLERS connections to 127.0.0.1:``port``, each sending a request's headers one byte a second."""
    request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"x" * 64 + b"\r\n\r\n"
    sockets = []
    for _ in range(TRICKLERS):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sockets.append(sock)
    stop = threading.Event()

    def drip() -> None:
        for index in range(len(request)):
            if stop.wait(1.0 if index else 0):
                return
            for sock in sockets:
                with suppress(OSError):  # nginx closed it (408): it has done its part
                    sock.send(request[index:index + 1])

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    deadline = time.monotonic() + seconds
    try:
        time.sleep(1.5)  # every connection has started its request
        yield deadline
    finally:
        stop.set()
        dripper.join(timeout=5)
        for sock in sockets:
            sock.close()


def call(port: int, method: str, path: str, body: object = None, *, source: str = "127.0.0.1",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=CLIENT_TIMEOUT,
                                             source_address=(source, 0))
    try:
        connection_.request(method, path, body=None if body is None else json.dumps(body),
                            headers={"Host": "localhost", "Content-Type": "application/json", **(headers or {})})
        response = connection_.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection_.close()


def answered(port: int, method: str, path: str, body: object = None) -> int | None:
    try:
        return call(port, method, path, body)[0]
    except (TimeoutError, OSError, http.client.HTTPException):
        return None


@pytest.fixture
def stack(trained_model_dir, tmp_path):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "probe.css").write_text("body { color: black }\n")
    app = start_gunicorn(db_settings=connection.settings_dict, model_dir=trained_model_dir, tmp_path=tmp_path,
                         workers=2, extra_env={"DJANGO_TRUSTED_PROXY_COUNT": "1"})
    proxy = start_nginx(upstream=f"127.0.0.1:{app.port}", port=free_port(), static_root=static,
                        work=tmp_path / "nginx")
    try:
        yield app, proxy
    finally:
        proxy.stop()
        app.stop()


def test_slow_clients_hold_gunicorns_workers_but_not_the_proxy(stack):
    app, proxy = stack
    with trickle(proxy.port, seconds=CLIENT_TIMEOUT + 3) as deadline:
        assert answered(proxy.port, "GET", "/healthz") == 200
        assert answered(proxy.port, "POST", "/api/models/iris/predict", IRIS_VIRGINICA) == 201
        assert time.monotonic() < deadline  # both answered while the trickle was still going
    with trickle(app.port, seconds=CLIENT_TIMEOUT + 3) as deadline:
        assert answered(app.port, "GET", "/healthz") is None  # both sync workers wait on trickling headers
        assert time.monotonic() < deadline


def test_the_proxy_records_the_real_client_keeps_metrics_inside_and_serves_static_files(stack):
    app, proxy = stack
    request_id = str(uuid.uuid4())
    status, _, _ = call(proxy.port, "POST", "/api/models/iris/predict", IRIS_VIRGINICA, source="127.0.0.7",
                        headers={"X-Forwarded-For": "6.6.6.6", "X-Request-ID": request_id})
    assert status == 201
    assert Prediction.objects.get(request_id=request_id).client_ip == "127.0.0.7"  # not the forged address

    assert call(proxy.port, "GET", "/metrics")[0] == 404
    assert call(app.port, "GET", "/metrics")[0] == 200  # Prometheus scrapes web:8000 inside the network

    status, headers, body = call(proxy.port, "GET", "/static/css/probe.css")
    assert status == 200 and body == b"body { color: black }\n" and "Cache-Control" in headers
    assert "X-Request-ID" not in headers  # answered by nginx itself, not by the app

    before = Prediction.objects.count()
    too_big = {"rows": "x" * (4 * 1024 * 1024)}
    assert call(proxy.port, "POST", "/api/models/iris/predict", too_big)[0] == 413
    assert Prediction.objects.count() == before  # refused by nginx: no worker read it, nothing was recorded
