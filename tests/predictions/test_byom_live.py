"""A model registered from the command line is served by every worker of a running gunicorn within seconds: no
restart, no HUP. The workers notice the catalogue's change themselves (MODEL_CATALOGUE_REFRESH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from tests import byom
from tests.hardening.live import ROOT, database_url, request, start_gunicorn

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
DEADLINE = 60  # seconds: only so that a broken build fails instead of hanging; the figure itself is in bench/


def test_a_model_registered_on_the_command_line_is_served_by_every_running_worker(trained_model_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_model_dir, models)
    wine = byom.wine(tmp_path / "brought")
    server = start_gunicorn(db_settings=connection.settings_dict, model_dir=models, tmp_path=tmp_path, workers=2)
    try:
        status, _, _ = request(server, "POST", "/api/models/wine/predict", wine.example())
        assert status == 404  # not registered yet
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
        env.update(DATABASE_URL=database_url(connection.settings_dict), MODEL_DIR=str(models), DJANGO_DEBUG="1")
        registered = subprocess.run([sys.executable, "manage.py", "register_model", str(wine.card), str(wine.model)],
                                    cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert registered.returncode == 0, registered.stderr
        started = time.monotonic()
        while request(server, "POST", "/api/models/wine/predict", wine.example())[0] != 201:
            assert time.monotonic() - started < DEADLINE, server.log()[-2000:]
            time.sleep(0.2)
        # Both workers: many requests at once, all answered by the new model.
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: request(server, "POST", "/api/models/wine/predict",
                                                      wine.example())[0], range(40)))
        assert answers == [201] * 40
        assert server.process.poll() is None and "Booting worker" in server.log()
        assert server.log().count("Booting worker") == 2  # no worker was restarted to get there
    finally:
        server.stop()
