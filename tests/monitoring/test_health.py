"""Readiness: 503 with reasons when the database is unreachable or a model fails verification."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.test import Client
client = Client()
for path in ("/healthz", "/readyz"):
    response = client.get(path)
    print(json.dumps({"path": path, "status": response.status_code, "body": response.json()}))
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens on it once the socket is closed


def test_ready_when_the_database_answers_and_every_model_is_verified(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready" and body["reasons"] == []
    assert body["models"]["iris"]["loaded"] and body["models"]["diamonds"]["loaded"]


def test_not_ready_when_the_database_is_unreachable_but_still_alive(trained_model_dir):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "mlsite.settings", "MODEL_DIR": str(trained_model_dir),
           "DATABASE_URL": f"postgres://nobody@127.0.0.1:{closed_port()}/mlsite", "DB_CONNECT_TIMEOUT": "2"}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    answers = {a["path"]: a for a in map(json.loads, result.stdout.splitlines())}
    assert answers["/healthz"]["status"] == 200  # liveness never asks the database
    ready = answers["/readyz"]
    assert ready["status"] == 503
    assert ready["body"]["status"] == "unavailable"
    assert any(reason.startswith("database:") for reason in ready["body"]["reasons"])
    # The catalogue of models is in the database: a process that started without it knows of no model yet.
    assert ready["body"]["models"] == {}


def test_not_ready_when_a_model_artifact_was_tampered_with(client, settings, trained_model_dir, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(trained_model_dir, models)
    artifact = models / "iris" / "1" / "model.skops"
    artifact.write_bytes(artifact.read_bytes() + b"\0")
    settings.MODEL_DIR = models
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["models"]["iris"]["loaded"] is False
    assert body["models"]["diamonds"]["loaded"] is True
    [reason] = body["reasons"]
    assert reason.startswith("model iris:") and "sha256" in reason


def test_not_ready_without_any_trained_model(client, settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "empty"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert len(response.json()["reasons"]) == 2
