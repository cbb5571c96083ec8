"""Pages load under the Content-Security-Policy without a single violation (Chromium reports them)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

PUBLIC_PAGES = ["/", "/api/docs/", "/admin/login/", "/models/iris/", "/models/diamonds/", "/models/diamonds/batch/"]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_load_without_csp_violations(page, path):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    assert response.status == 200
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert violations == []


def test_the_api_docs_render_offline(page):
    page.goto("/api/docs/")
    page.wait_for_selector("text=mlsite API")
    assert page.locator(".opblock").count() >= 8


def test_staff_pages_load_without_csp_violations(page, logged_in):
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    logged_in(page)
    for path in ("/admin/", "/admin/password_change/"):
        assert page.goto(path).status == 200
        page.wait_for_load_state("networkidle")
    assert violations == []
