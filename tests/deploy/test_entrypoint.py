"""docker/entrypoint.sh and docker/healthcheck.py run as the image runs them (no database server needed here)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

from tests.deploy.conftest import ROOT, process_env

ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_waiting_for_an_unreachable_database_gives_up_in_time_with_a_clear_message():
    env = process_env(DATABASE_URL=f"postgres://mlsite:secret@127.0.0.1:{closed_port()}/mlsite", DB_WAIT_TIMEOUT="2")
    started = time.monotonic()
    result = subprocess.run([str(ENTRYPOINT), "web"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert time.monotonic() - started < 30  # bounded: gunicorn never started
    assert f"database 127.0.0.1:{env['DATABASE_URL'].rsplit(':', 1)[1].split('/')[0]}/mlsite not reachable" \
           f" after 2 s" in result.stderr
    assert "secret" not in result.stderr  # the password is never printed
    assert "Starting gunicorn" not in result.stderr + result.stdout


def test_manage_runs_any_management_command_after_the_wait(tmp_path):
    env = process_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    result = subprocess.run([str(ENTRYPOINT), "manage", "check"], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_any_other_command_is_executed_as_given():
    result = subprocess.run([str(ENTRYPOINT), "python", "-c", "import os; print(os.getcwd())"], env=process_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT)  # commands run from the app directory, wherever they were started


def test_the_health_check_fails_when_nothing_answers():
    result = subprocess.run([sys.executable, str(ROOT / "docker" / "healthcheck.py")],
                            env=process_env(PORT=str(closed_port())), capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "/healthz failed" in result.stderr


def test_web_starts_gunicorn_when_env_leaves_web_concurrency_blank(trained_model_dir, tmp_path):
    # `WEB_CONCURRENCY=` in .env reaches the container as an empty string, which gunicorn itself cannot parse.
    env = process_env(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", MODEL_DIR=str(trained_model_dir),
                      WEB_CONCURRENCY="", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    result = subprocess.run([str(ENTRYPOINT), "web", "--print-config"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert re.search(r"^workers\s+= [1-8]$", result.stdout, flags=re.M)
