"""Settings of the test run: mlsite's own, with DEBUG on as `make run` has it (production is the default).

Only the pytest process reads this module; every subprocess a test starts (manage.py, gunicorn) gets the environment
the test gives it and reads mlsite.settings like a real deployment.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from mlsite.settings import *  # noqa: F403
