"""Settings come from the environment; every test runs a real `manage.py` in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlsite.env import local_secret_key

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x7Qp2vL9sR4tW8yZ1bC5dF3gH6jK0mN2qS4uV6wX8zA1cE3fG5hJ7kL9",
    "DJANGO_ALLOWED_HOSTS": "mlsite.example.com",
}


def manage(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL"))}
    clean.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True,
                          timeout=timeout)


def settings_value(expression: str, **env: str) -> str:
    result = manage("shell", "-c", f"from django.conf import settings; print({expression})", **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]  # the shell may print a banner first


def test_no_environment_fails_closed_with_a_clear_message():
    """Production is the default: no DJANGO_DEBUG and no secret key is a refusal to start, not an insecure site."""
    result = manage("check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off (the default)" in result.stderr
    assert "set DJANGO_DEBUG=1 for a local development site" in result.stderr


def test_debug_on_is_a_sqlite_file_under_var_with_a_random_key_of_its_own():
    seen = settings_value("settings.DEBUG, settings.DATABASES['default']['ENGINE'], "
                          "settings.DATABASES['default']['NAME'], settings.SECRET_KEY", DJANGO_DEBUG="1")
    debug, engine, name, key = seen.split(" ")
    assert (debug, engine, name) == ("True", "django.db.backends.sqlite3", str(ROOT / "var" / "db.sqlite3"))
    assert key == (ROOT / "var" / "secret_key").read_text().strip() and len(key) >= 50
    assert "insecure" not in key


def test_a_development_key_is_random_private_and_kept(tmp_path):
    first = local_secret_key(tmp_path / "a" / "secret_key")
    assert local_secret_key(tmp_path / "a" / "secret_key") == first  # kept: sessions survive a restart
    assert local_secret_key(tmp_path / "b" / "secret_key") != first  # random: no two sites share one
    assert (tmp_path / "a" / "secret_key").stat().st_mode & 0o077 == 0  # readable by its owner only


def test_no_fixed_secret_key_is_shipped_anywhere():
    shipped = [path for path in ROOT.glob("**/*") if path.is_file() and path.suffix in (".py", ".yml", ".sh", "")
               and not {".venv", ".git", "var", "tests", "node_modules"} & set(path.relative_to(ROOT).parts)]
    for path in shipped:
        text = path.read_text(errors="replace")
        assert "django-insecure" not in text, path
        assert "SECRET_KEY=build-time" not in text, path


def test_the_two_commands_and_the_image_set_debug_explicitly():
    assert "run: export DJANGO_DEBUG ?= 1" in (ROOT / "Makefile").read_text()
    assert "DJANGO_DEBUG=0" in (ROOT / "Dockerfile").read_text()


def test_database_url_switches_to_postgres_with_persistent_checked_connections():
    db = "settings.DATABASES['default']"
    url = "postgres://mlsite:secret@db.internal:5433/history"
    assert settings_value(f"{db}['ENGINE'], {db}['HOST'], {db}['PORT'], {db}['NAME'], "
                          f"{db}['CONN_MAX_AGE'] > 0 and {db}['CONN_HEALTH_CHECKS']",
                          DATABASE_URL=url, **PRODUCTION) == "mlsite.db.postgresql db.internal 5433 history True"


@pytest.mark.parametrize(("env", "message"), [
    ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
    ({"DJANGO_DEBUG": "0", "DJANGO_ALLOWED_HOSTS": "x.example"}, "DJANGO_SECRET_KEY must be set"),
    ({"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "k" * 60}, "DJANGO_ALLOWED_HOSTS must be set"),
    ({"PREDICTION_LOG_MODE": "sometimes", **PRODUCTION},
     "PREDICTION_LOG_MODE='sometimes' must be one of: strict, best_effort"),
    ({"DATABASE_URL": "mongodb://localhost/x", **PRODUCTION}, "DATABASE_URL: unsupported database 'mongodb'"),
    ({"PREDICT_MAX_BATCH_ROWS": "lots", **PRODUCTION}, "PREDICT_MAX_BATCH_ROWS='lots' is not an integer"),
    ({"PREDICT_THROTTLE_RATE": "20 per second", **PRODUCTION}, "PREDICT_THROTTLE_RATE='20 per second' is not a rate"),
])
def test_bad_or_missing_values_stop_start_up_with_a_clear_message(env, message):
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_the_deploy_check_is_clean_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
