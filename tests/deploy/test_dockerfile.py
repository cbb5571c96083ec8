"""The Dockerfile passes hadolint and keeps the image's promises: non-root, health-checked, nothing private inside."""

from __future__ import annotations

import re
import subprocess

from tests.deploy.conftest import ROOT, VENV_BIN

DOCKERFILE = ROOT / "Dockerfile"


def hadolint(text: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(VENV_BIN / "hadolint"), "--no-color", "-"], input=text, capture_output=True,
                          text=True, timeout=60)


def test_hadolint_passes():
    result = hadolint(DOCKERFILE.read_text())
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_careless_dockerfile():
    result = hadolint("FROM python:latest\nRUN apt-get update && apt-get install -y curl\nUSER root\n")
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # :latest


def test_the_runtime_stage_runs_as_a_numeric_non_root_user_with_a_health_check():
    text = DOCKERFILE.read_text()
    runtime = text[text.rindex("\nFROM "):]
    users = re.findall(r"^USER (\S+)", runtime, flags=re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert users[-1].split(":")[0].isdigit()  # Kubernetes' runAsNonRoot can only verify a numeric uid
    assert re.search(r"^HEALTHCHECK .*CMD \[\"python\", \"docker/healthcheck.py\"\]", runtime, flags=re.M)
    assert re.search(r'^ENTRYPOINT \["/app/docker/entrypoint.sh"\]', runtime, flags=re.M)


def test_the_image_is_built_from_wheels_of_an_earlier_stage():
    text = DOCKERFILE.read_text()
    assert text.count("\nFROM ") + text.startswith("FROM ") >= 2
    assert "pip wheel --wheel-dir /wheels" in text
    assert "--no-index --find-links=/wheels" in text


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build_context():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for entry in (".env", ".git", ".venv", "var", "**/__pycache__"):
        assert entry in ignored, f".dockerignore lacks {entry}"
    assert "docker" not in ignored and "docker/" not in ignored  # the entrypoint and health check live there
