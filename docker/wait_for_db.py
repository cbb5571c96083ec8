"""Wait until the configured database accepts connections, for at most DB_WAIT_TIMEOUT seconds (default 60).

docker/entrypoint.sh runs it before gunicorn or a management command: in compose the web container may start while
Postgres is still recovering or restarting, and a clear "database not reachable" beats a stack trace per worker.
Goes through Django's own connection, so it checks exactly what the app will use (SQLite passes at once).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlsite.settings")


def main() -> int:
    import django

    django.setup()
    from django.db import OperationalError, connections

    from mlsite.env import env_int

    timeout = env_int("DB_WAIT_TIMEOUT", 60, minimum=0)
    connection = connections["default"]
    where = _describe(connection.settings_dict)
    deadline = time.monotonic() + timeout
    delay = 0.25
    while True:
        try:
            connection.ensure_connection()
        except OperationalError as exc:
            error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if time.monotonic() + delay > deadline:
                print(f"wait_for_db: database {where} not reachable after {timeout} s: {error}", file=sys.stderr)
                print("wait_for_db: check DATABASE_URL and that the database server is up "
                      "(DB_WAIT_TIMEOUT sets how long to wait)", file=sys.stderr)
                return 1
            print(f"wait_for_db: waiting for database {where}: {error}", file=sys.stderr)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        else:
            connection.close()
            return 0


def _describe(settings_dict: dict) -> str:
    """host:port/name without the password."""
    if not settings_dict.get("HOST"):
        return str(settings_dict.get("NAME"))
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"{settings_dict['HOST']}{port}/{settings_dict.get('NAME')}"


if __name__ == "__main__":
    sys.exit(main())
