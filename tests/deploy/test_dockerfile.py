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
    runtime = text[text.index(" AS runtime"):text.index(" AS proxy")]
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


def test_the_proxy_stage_is_nginx_with_the_projects_config_and_the_collected_static_files():
    text = DOCKERFILE.read_text()
    proxy = text[text.index(" AS proxy"):]
    assert re.search(r"^FROM nginx:\d+\.\d+-bookworm AS proxy", text, flags=re.M)  # pinned, not :latest
    assert "COPY docker/nginx/mlsite.conf.template /etc/nginx/templates/" in proxy
    assert "COPY --from=runtime /app/var/static" in proxy
    assert "MLSITE_UPSTREAM=web:8000" in proxy
    assert "MLSITE_FORWARDED_PROTO=\\$scheme" in proxy  # escaped: nginx's variable, not a build argument


def test_the_image_runs_with_debug_off_and_no_baked_in_secret():
    text = DOCKERFILE.read_text()
    assert "DJANGO_DEBUG=0" in text[text.index(" AS runtime"):text.index(" AS proxy")]
    assert "secrets.token_urlsafe" in text  # the build's collectstatic gets a random key that lives in one RUN
