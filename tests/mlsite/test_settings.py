"""Settings come from the environment; every test runs a real `manage.py` in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x7Qp2vL9sR4tW8yZ1bC5dF3gH6jK0mN2qS4uV6wX8zA1cE3fG5hJ7kL9",
    "DJANGO_ALLOWED_HOSTS": "mlsite.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=60)


def settings_value(expression: str, **env: str) -> str:
    result = manage("shell", "-c", f"from django.conf import settings; print({expression})", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # the shell may print a banner first


def test_no_environment_gives_debug_on_a_sqlite_file_under_var():
    assert settings_value("settings.DEBUG") == "True"
    assert settings_value("settings.DATABASES['default']['ENGINE']") == "django.db.backends.sqlite3"
    assert settings_value("settings.DATABASES['default']['NAME']") == str(ROOT / "var" / "db.sqlite3")


def test_database_url_switches_to_postgres_with_persistent_checked_connections():
    db = "settings.DATABASES['default']"
    url = "postgres://mlsite:secret@db.internal:5433/history"
    assert settings_value(f"{db}['ENGINE'], {db}['HOST'], {db}['PORT'], {db}['NAME']", DATABASE_URL=url) == (
        "mlsite.db.postgresql db.internal 5433 history")
    assert settings_value(f"{db}['CONN_MAX_AGE'] > 0 and {db}['CONN_HEALTH_CHECKS']", DATABASE_URL=url) == "True"


@pytest.mark.parametrize(("env", "message"), [
    ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
    ({"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "x.example"}, "DJANGO_SECRET_KEY must be set"),
    ({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 60}, "DJANGO_ALLOWED_HOSTS must be set"),
    ({"PREDICTION_LOG_MODE": "sometimes"}, "PREDICTION_LOG_MODE='sometimes' must be one of: strict, best_effort"),
    ({"DATABASE_URL": "mongodb://localhost/x"}, "DATABASE_URL: unsupported database 'mongodb'"),
    ({"PREDICT_MAX_BATCH_ROWS": "lots"}, "PREDICT_MAX_BATCH_ROWS='lots' is not an integer"),
])
def test_bad_or_missing_values_stop_start_up_with_a_clear_message(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_deploy_check_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
