"""Docker HEALTHCHECK: GET /healthz on this container's gunicorn; exit 0 when it answers {"status": "ok"}.

Python's standard library instead of curl, which the slim image does not have. The request carries a Host header
from DJANGO_ALLOWED_HOSTS, so the probe passes Django's host validation whatever the site's host name is.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def probe_host() -> str:
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")  # ".example.com" allows example.com and its subdomains
        if host and host != "*":
            return host
    return "localhost"


def main() -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": probe_host()})
    try:
        with urllib.request.urlopen(request, timeout=float(os.environ.get("HEALTHCHECK_TIMEOUT", "3"))) as response:
            body = json.load(response)
    except (OSError, ValueError) as exc:  # URLError, HTTPError (4xx/5xx), timeouts, a body that is not JSON
        print(f"healthcheck: /healthz failed: {exc}", file=sys.stderr)
        return 1
    if body.get("status") != "ok":
        print(f"healthcheck: /healthz answered {body!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
