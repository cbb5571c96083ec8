"""docker-compose.yml: valid for Debian's docker-compose, secrets only from .env, and production settings that pass
Django's deploy check while http://localhost:8000 keeps working."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import yaml

from tests.deploy.conftest import ROOT, compose_config, process_env, readme_env_file


def test_compose_config_is_valid_with_the_readme_env(compose_services):
    assert {"db", "migrate", "web", "redis", "proxy"} <= set(compose_services)


def test_compose_refuses_to_start_without_the_secrets(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")  # copied but not filled in
    result = compose_config(tmp_path)
    assert result.returncode != 0
    assert "set DJANGO_SECRET_KEY in .env" in result.stderr or "set POSTGRES_PASSWORD in .env" in result.stderr


def test_the_example_env_commits_no_secret():
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith(("DJANGO_SECRET_KEY=", "POSTGRES_PASSWORD=")):
            assert line.endswith("="), line


def test_web_starts_only_after_a_healthy_db_and_a_completed_migrate(compose_services):
    web, migrate, db = compose_services["web"], compose_services["migrate"], compose_services["db"]
    assert web["depends_on"] == {"db": {"condition": "service_healthy"},
                                 "redis": {"condition": "service_healthy"},
                                 "migrate": {"condition": "service_completed_successfully"}}
    assert migrate["command"] == ["migrate"] and migrate["restart"] == "no"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(volume.startswith("pgdata:") for volume in db["volumes"])


def test_web_reaches_the_compose_database_with_the_env_password(compose_services):
    web = compose_services["web"]["environment"]
    password = compose_services["db"]["environment"]["POSTGRES_PASSWORD"]
    assert web["DATABASE_URL"] == f"postgres://mlsite:{password}@db:5432/mlsite"


def test_any_setting_in_env_reaches_the_containers_but_debug_stays_off(tmp_path):
    env_file = readme_env_file(tmp_path)
    env_file.write_text(env_file.read_text() + "PREDICT_THROTTLE_RATE=600/minute\nDJANGO_DEBUG=1\n")
    result = compose_config(tmp_path)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name in ("web", "migrate"):
        assert services[name]["environment"]["PREDICT_THROTTLE_RATE"] == "600/minute"
        assert services[name]["environment"]["DJANGO_DEBUG"] == "0"


def test_redis_runs_by_default_and_the_rate_limit_counts_in_it(compose_services):
    assert "profiles" not in compose_services["redis"]
    assert compose_services["web"]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert compose_services["web"]["environment"]["REDIS_URL"] == "redis://redis:6379/0"


def test_only_the_proxy_is_published_and_the_app_trusts_exactly_one_proxy(compose_services):
    web, proxy = compose_services["web"], compose_services["proxy"]
    assert "ports" not in web and web["expose"] == ["8000"]
    assert proxy["build"]["target"] == "proxy"
    assert published(proxy) == ("8000", None)
    assert web["environment"]["DJANGO_TRUSTED_PROXY_COUNT"] == "1"


def published(service: dict) -> tuple[str, str | None]:
    """(host port, host address or None) of a service's one published port. Debian's docker-compose (1.29) prints
    {"published": 8000, "target": 8080}, or "127.0.0.1:8000:8080/tcp" when a host address is given."""
    (port,) = service["ports"]
    if isinstance(port, dict):
        assert port["target"] == 8080
        return str(port["published"]), None
    host, host_port, target = port.split(":")
    assert target == "8080/tcp"
    return host_port, host


@pytest.mark.parametrize(("proxy_port", "expected"), [("80", ("80", None)), ("127.0.0.1:8000", ("8000", "127.0.0.1"))])
def test_the_published_port_can_be_changed_or_kept_on_loopback(tmp_path, proxy_port, expected):
    readme_env_file(tmp_path)
    result = compose_config(tmp_path, PROXY_PORT=proxy_port)
    assert result.returncode == 0, result.stderr
    assert published(yaml.safe_load(result.stdout)["services"]["proxy"]) == expected


def test_stop_grace_period_outlasts_gunicorns_graceful_timeout(compose_services):
    grace = compose_services["web"]["stop_grace_period"]
    assert grace.endswith("s") and int(grace[:-1]) > 65  # gunicorn.conf.py: GUNICORN_TIMEOUT (60) + 5


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=process_env(**env), capture_output=True, text=True, timeout=60)


def test_the_deploy_check_is_clean_with_the_compose_production_env(web_env):
    assert web_env["DJANGO_DEBUG"] == "0"
    result = deploy_check(web_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_is_clean_behind_a_tls_proxy_with_redirects_on(web_env):
    result = deploy_check({**web_env, "DJANGO_SECURE_SSL_REDIRECT": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deploy_check_would_catch_a_weakened_compose_env(web_env):
    result = deploy_check({**web_env, "DJANGO_SECURE_HSTS_SECONDS": "0"})
    assert result.returncode != 0
    assert "security.W004" in result.stderr
