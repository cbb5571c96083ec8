"""Deployment files checked with the real tools: hadolint, Debian's docker-compose, manage.py, gunicorn.

There is no Docker engine here, so the image is never built; what can run outside it runs for real (the entrypoint,
gunicorn.conf.py, the health check) with the environment docker-compose.yml resolves to.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def readme_env_file(directory: Path) -> Path:
    """The .env that README "Deploying" tells the operator to write: the two secrets, nothing else."""
    env_file = directory / ".env"
    env_file.write_text(f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\nPOSTGRES_PASSWORD={secrets.token_urlsafe(24)}\n")
    return env_file


def compose_config(directory: Path, **env: str) -> subprocess.CompletedProcess:
    """`docker-compose config` on a copy of docker-compose.yml in ``directory`` (which holds the .env to use)."""
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.fail("docker-compose not found: run `make system-deps` (installs Debian's docker-compose)")
    shutil.copy(ROOT / "docker-compose.yml", directory / "docker-compose.yml")
    clean = {key: value for key, value in os.environ.items()
             if not key.startswith(("DJANGO_", "POSTGRES_", "DATABASE_URL", "REDIS_URL", "WEB_", "PROXY_", "COMPOSE_"))}
    return subprocess.run([docker_compose, "-f", "docker-compose.yml", "config"], cwd=directory,
                          env={**clean, **env}, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="session")
def compose_services(tmp_path_factory) -> dict:
    """The services of docker-compose.yml as docker-compose resolves them with the README's .env."""
    directory = tmp_path_factory.mktemp("compose")
    readme_env_file(directory)
    result = compose_config(directory)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


@pytest.fixture(scope="session")
def web_env(compose_services) -> dict[str, str]:
    """The environment the compose file gives the web container."""
    return {key: "" if value is None else str(value) for key, value in compose_services["web"]["environment"].items()}


def process_env(**env: str) -> dict[str, str]:
    """A bare environment like a container's: nothing from this test process but PATH to the venv and HOME, and
    what every container gets (the image's DJANGO_DEBUG=0; compose's secret key and hosts)."""
    return {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
            "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_ALLOWED_HOSTS": "localhost",
            **env}
