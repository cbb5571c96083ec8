"""Nobody let in: what anonymous and non-staff users are refused, CSRF on session writes, and the security headers
production settings put on every page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.conftest import IRIS_VIRGINICA
from tests.mlsite.test_settings import PRODUCTION, manage

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["/history/", "/admin/", "/admin/predictions/prediction/", "/admin/auth/user/"]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_anonymous_and_non_staff_users_are_sent_to_the_login(client, django_user_model, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    client.force_login(django_user_model.objects.create_user("visitor", password="pass-1234-x"))
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("path", ["/api/predictions/", "/api/predictions/1/"])
def test_the_history_api_refuses_anonymous_callers(client, path):
    response = client.get(path, HTTP_ACCEPT="application/json")
    assert response.status_code in (401, 403) and "error" in response.json()


def test_feedback_refuses_anonymous_callers(api_client):
    created = api_client.post("/api/models/iris/predict", IRIS_VIRGINICA, format="json").json()
    response = api_client.post(f"/api/predictions/{created['id']}/feedback", {"actual": "virginica"}, format="json")
    assert response.status_code in (401, 403)


def test_form_posts_need_the_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    refused = browser.post("/models/iris/", {k: str(v) for k, v in IRIS_VIRGINICA.items()})
    assert refused.status_code == 403 and b"Form expired" in refused.content
    page = browser.get("/models/iris/")
    token = page.cookies["csrftoken"].value
    accepted = browser.post("/models/iris/", {**{k: str(v) for k, v in IRIS_VIRGINICA.items()},
                                              "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302


PROBE = """
import json
from django.test import Client
client = Client(HTTP_HOST="mlsite.example.com")
out = {}
for path, secure in [("/", True), ("/models/iris/", True), ("/api/models/", True), ("/", False)]:
    response = client.get(path, secure=False, HTTP_X_FORWARDED_PROTO="https" if secure else "http")
    out[f"{path} {secure}"] = {"status": response.status_code, **{k: v for k, v in response.headers.items()}}
print(json.dumps(out))
"""


def test_production_settings_send_the_security_headers(tmp_path):
    env = {**PRODUCTION, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "MODEL_DIR": str(tmp_path / "models"),
           "STATIC_ROOT": str(tmp_path / "static"),
           # The image pre-compresses every file (most of a minute); these headers do not depend on it. A wide
           # budget all the same: a busy machine must not fail this test by being slow.
           "DJANGO_STATIC_COMPRESS": "0"}
    assert manage("collectstatic", "--noinput", timeout=600, **env).returncode == 0  # as the Docker build does
    result = manage("shell", "-c", PROBE, timeout=600, **env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    home = seen["/ True"]
    assert home["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert home["X-Content-Type-Options"] == "nosniff"
    assert home["X-Frame-Options"] == "DENY"
    assert home["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in home["Content-Security-Policy"]
    assert "script-src 'self'" in seen["/models/iris/ True"]["Content-Security-Policy"]
    api = seen["/api/models/ True"]
    assert api["X-Content-Type-Options"] == "nosniff" and "Strict-Transport-Security" in api
    plain = seen["/ False"]  # plain HTTP through the proxy is redirected to HTTPS
    assert plain["status"] == 301 and plain["Location"] == "https://mlsite.example.com/"
