"""The real entrypoint and gunicorn.conf.py, with the compose file's production environment, against PostgreSQL.

What the web container does, minus the container: static files collected as the image build collects them, the
`migrate` command of the one-shot service, then `entrypoint.sh web` (wait for the database, exec gunicorn) with
DEBUG off. The test predicts over HTTP, finds the row, and stops the server with SIGTERM as `docker stop` does.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.db import connection

from predictions.models import Prediction
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import IRIS_VIRGINICA
from tests.deploy.conftest import ROOT, process_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
GRACEFUL_TIMEOUT = 10
PASSWORD = "a-long-admin-passphrase-7"
BOOT_TIMEOUT = 90  # seconds for gunicorn to load Django and the models on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_database_url() -> str:
    """The pytest-django test database (this xdist worker's), as a DATABASE_URL for the server."""
    s = connection.settings_dict
    credentials = quote(s["USER"] or "", safe="") + (f":{quote(s['PASSWORD'], safe='')}" if s["PASSWORD"] else "")
    return f"postgres://{credentials}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"




def collect_static_like_the_image(env: dict[str, str]) -> None:
    # requirements.txt has no brotli, so the image compresses static files with gzip only; brotli is installed here
    # through a development dependency and would make this step 15 s slower. Blocking its import mirrors the image.
    code = ("import sys; sys.modules['brotli'] = None; import os; os.environ['DJANGO_SETTINGS_MODULE'] = "
            "'mlsite.settings'; from django.core.management import execute_from_command_line; "
            "execute_from_command_line(['manage.py', 'collectstatic', '--noinput', '-v0'])")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr


def admin_login_lands_on_the_site_administration(base: str) -> bool:
    # A thread of its own: the browser tests' session-wide Playwright may already run an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(_admin_login, base).result(timeout=120)


def _admin_login(base: str) -> bool:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{base}/admin/")
            page.fill("#id_username", "admin")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.wait_for_url(f"{base}/admin/")
            return page.title() == "Prediction history | mlsite admin"  # the admin index, as staff see it
        finally:
            browser.close()


def wait_for_healthz(server: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"gunicorn exited with {server.returncode} before answering:\n{log.read_text()}")
        try:
            if requests.get(f"{base}/healthz", headers={"Host": "localhost"}, timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"/healthz did not answer within {BOOT_TIMEOUT} s:\n{log.read_text()}")


def test_gunicorn_serves_records_and_stops_cleanly_with_the_compose_production_env(web_env, trained_model_dir,
                                                                                  tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")
    env = process_env(**{
        **web_env,  # DJANGO_DEBUG=0, the secret, hosts, TLS settings: exactly what compose gives the container
        "DATABASE_URL": server_database_url(),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "MODEL_DIR": str(trained_model_dir),
        "STATIC_ROOT": str(tmp_path / "static"),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
        "GUNICORN_TIMEOUT": str(GRACEFUL_TIMEOUT - 2),  # the graceful timeout must outlast the longest request
        "REDIS_URL": "redis://127.0.0.1:6379/1",  # the machine's Redis where compose has its `redis` service
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "DB_WAIT_TIMEOUT": "20",
    })
    assert env["DJANGO_DEBUG"] == "0"
    collect_static_like_the_image(env)

    migrate = subprocess.run([str(ENTRYPOINT), "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    assert "No migrations to apply" in migrate.stdout  # the test database is migrated; the command path works

    log = tmp_path / "gunicorn.log"
    with log.open("w") as sink:
        # Its own process group, so that whatever happens the cleanup below reaches gunicorn and its workers.
        server = subprocess.Popen([str(ENTRYPOINT), "web"], env=env, stdout=sink, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_healthz(server, base, log)
        session = requests.Session()
        session.headers["Host"] = "localhost"  # as a browser on http://localhost:8000 sends it

        home = session.get(f"{base}/", timeout=10, allow_redirects=False)
        assert home.status_code == 200, home.text[:500]  # plain HTTP is served, not redirected to https
        stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', home.text)
        assert stylesheet, "the home page should link its stylesheet by its hashed, collected name"
        css = session.get(f"{base}{stylesheet.group(1)}", timeout=10, headers={"Accept-Encoding": "gzip"})
        assert css.status_code == 200 and "immutable" in css.headers["Cache-Control"]  # whitenoise, from STATIC_ROOT

        request_id = uuid.uuid4()
        response = session.post(f"{base}/api/models/iris/predict", json=IRIS_VIRGINICA, timeout=10,
                                headers={"X-Request-ID": str(request_id)})
        assert response.status_code == 201, response.text
        assert response.json()["request_id"] == str(request_id) == response.headers["X-Request-ID"]
        row = Prediction.objects.get(request_id=request_id)
        assert (row.model_name, row.status, row.channel, row.outputs["label"]) == ("iris", "ok", "api", "virginica")

        # The operator's first steps from README "Deploying": create the admin user, log in over plain
        # http://localhost. The session and CSRF cookies are Secure (DEBUG off); browsers accept them on localhost.
        create = subprocess.run([str(ENTRYPOINT), "manage", "createsuperuser", "--noinput", "--username", "admin",
                                 "--email", "admin@example.com"], env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
                                capture_output=True, text=True, timeout=60)
        assert create.returncode == 0, create.stderr
        assert admin_login_lands_on_the_site_administration(f"http://localhost:{port}")

        health = subprocess.run([sys.executable, str(ROOT / "docker" / "healthcheck.py")], env=env,
                                capture_output=True, text=True, timeout=30)
        assert health.returncode == 0, health.stderr

        assert not (metrics_dir / "counter_1.db").exists()  # a fresh multiprocess directory...
        assert list(metrics_dir.glob("counter_*.db"))  # ...that the workers write their samples to

        server.send_signal(signal.SIGTERM)  # what `docker stop` sends to the container's main process
        assert server.wait(timeout=GRACEFUL_TIMEOUT + 10) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)  # nothing left by a clean exit; everything after a failure
        server.wait()

    output = log.read_text()
    assert f"request_id={request_id}" in output  # the access log line of the prediction, with its latency
    assert re.search(rf'request="POST /api/models/iris/predict HTTP/1.1" status=201 .*duration_s=\d+\.\d{{6}} '
                     rf"request_id={request_id}", output)
    # Preloaded: the models were loaded once, in the master, and both workers were forked from it.
    assert output.count("Booting worker") == 2
    assert output.count("serving iris v") == 1
    assert "Shutting down: Master" in output
