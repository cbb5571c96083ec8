"""Shared fixtures: real models trained into a temporary MODEL_DIR, real databases, real HTTP clients."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

import ml

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls from that thread are still safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def trained_model_dir(tmp_path_factory) -> Path:
    """Both models, trained once per test session with their default algorithms (about a second each)."""
    path = tmp_path_factory.mktemp("models")
    ml.train("iris", path)
    ml.train("diamonds", path)
    return path


DB_FIXTURES = ("db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback")


@pytest.fixture(autouse=True)
def _serve_trained_models(request, trained_model_dir: Path, settings):
    """MODEL_DIR is the session's trained models; tests with a database also get them in the catalogue, as
    `manage.py train` leaves them (version 1 of iris and diamonds)."""
    from predictions.domain import catalogue, serving

    settings.MODEL_DIR = trained_model_dir
    uses_db = request.node.get_closest_marker("django_db") is not None or any(
        name in request.fixturenames for name in DB_FIXTURES)
    if uses_db:
        for name in DB_FIXTURES:
            if name in request.fixturenames:
                request.getfixturevalue(name)
        for name in ("iris", "diamonds"):
            catalogue.model_adopt(name=name, version="1", source="trained")
        serving.get_registry()  # read the catalogue now, not inside the test's first request
    yield trained_model_dir
    serving.invalidate()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    if django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://… (make test in CI does)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


IRIS_VIRGINICA = {"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}
DIAMOND = {"carat": 0.7, "cut": "Ideal", "color": "G", "clarity": "VS2", "depth": 61.8, "table": 57.0,
           "x": 5.7, "y": 5.72, "z": 3.53}


@pytest.fixture
def staff_user(django_user_model):
    """A reviewer as README "Security" makes one: staff, in the reviewers group (history and feedback)."""
    from predictions.management.commands.access import reviewers_group

    user = django_user_model.objects.create_user("reviewer", "reviewer@example.com", "s3cret-pass!", is_staff=True)
    user.groups.add(reviewers_group())
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
