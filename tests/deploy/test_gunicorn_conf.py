"""gunicorn.conf.py as gunicorn itself reads it (`--print-config` loads the config and the app, then exits)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT, VENV_BIN, process_env


def print_config(model_dir: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "gunicorn"), "--config", "gunicorn.conf.py", "--print-config"], cwd=ROOT,
                          env=process_env(MODEL_DIR=str(model_dir), **{"DJANGO_DEBUG": "1", **env}),
                          capture_output=True, text=True,
                          timeout=120)


def settings_of(output: str) -> dict[str, str]:
    return dict(re.findall(r"^(\w+)\s+= (.*)$", output, flags=re.M))


def test_the_environment_sets_workers_bind_and_limits(trained_model_dir, tmp_path):
    result = print_config(trained_model_dir, WEB_CONCURRENCY="3", HOST="0.0.0.0", PORT="9123",
                          GUNICORN_MAX_REQUESTS="500", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    assert result.returncode == 0, result.stderr
    config = settings_of(result.stdout)
    assert config["workers"] == "3"
    assert config["bind"] == "['0.0.0.0:9123']"
    assert config["max_requests"] == "500" and int(config["max_requests_jitter"]) > 0
    assert config["preload_app"] == "True"
    # Every request a worker may be serving at SIGTERM (at most `timeout` long) gets to finish, and gunicorn is done
    # before docker-compose.yml's stop_grace_period (75 s) runs out.
    assert int(config["timeout"]) < int(config["graceful_timeout"]) < 75
    assert config["accesslog"] == "-"
    assert "%({x-request-id}o)s" in config["access_log_format"] and "%(L)s" in config["access_log_format"]


def test_defaults_listen_on_localhost_8000_with_workers_from_the_cores(trained_model_dir, tmp_path):
    result = print_config(trained_model_dir, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    assert result.returncode == 0, result.stderr
    config = settings_of(result.stdout)
    assert config["bind"] == "['127.0.0.1:8000']"
    assert 1 <= int(config["workers"]) <= 8


@pytest.mark.parametrize(("env", "message"), [
    ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY=0 must be at least 1"),
    ({"GUNICORN_TIMEOUT": "soon"}, "GUNICORN_TIMEOUT='soon' is not an integer"),
    ({"GUNICORN_PRELOAD": "perhaps"}, "GUNICORN_PRELOAD='perhaps' is not a boolean"),
])
def test_a_malformed_value_stops_start_up_naming_the_variable(trained_model_dir, tmp_path, env, message):
    result = print_config(trained_model_dir, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_stale_metric_files_are_cleared_before_the_app_starts(trained_model_dir, tmp_path):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_999999.db").write_bytes(b"left over by a previous run")
    (metrics / "README").write_text("not a metrics file: left alone")
    result = print_config(trained_model_dir, PROMETHEUS_MULTIPROC_DIR=str(metrics))
    assert result.returncode == 0, result.stderr
    assert not (metrics / "counter_999999.db").exists()
    assert (metrics / "README").exists()


def test_a_graceful_timeout_shorter_than_the_longest_request_is_refused(trained_model_dir):
    result = print_config(trained_model_dir, GUNICORN_TIMEOUT="60", GUNICORN_GRACEFUL_TIMEOUT="25")
    assert result.returncode != 0
    assert "GUNICORN_GRACEFUL_TIMEOUT=25 must exceed GUNICORN_TIMEOUT=60" in result.stdout + result.stderr
