"""WSGI entry point. Models are loaded and verified here, at import, so that a refused artifact is reported at
start-up and gunicorn's preload shares the loaded models with every worker (copy-on-write)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlsite.settings")

application = get_wsgi_application()

from predictions.domain.startup import load_models  # noqa: E402 - needs the app registry that get_wsgi_application sets up

load_models()
