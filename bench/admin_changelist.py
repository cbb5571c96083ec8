"""The admin's prediction list at 1,000 and at 1,000,000 rows, side by side, on PostgreSQL.

    .venv/bin/python bench/admin_changelist.py [--large 1000000] [--small 1000] [--repeats 7]

Recreates a scratch database bench_admin on 127.0.0.1, migrates it, seeds the small history with
`manage.py seed_history`, times each page, then reseeds with the large one and times them again. Pages are rendered
in-process by Django's test client for a logged-in staff user, DEBUG off (static files collected first, as in
production), so the figure is the server-side time of the whole request: every query plus template rendering.
Prints a Markdown table with the median of --repeats runs after one warm-up (bench/README.md "Admin at 1M rows").
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
DB = "bench_admin"
PG = {"host": "127.0.0.1", "port": 5432, "user": os.environ.get("PGUSER", "root")}

PAGES = {
    "changelist": "/admin/predictions/prediction/",
    "filtered: status=rejected": "/admin/predictions/prediction/?status__exact=rejected",
    "filtered: model=iris, channel=api": "/admin/predictions/prediction/?model=iris&channel__exact=api",
    "filtered: not reviewed, last month": "/admin/predictions/prediction/?reviewed=no&created_at__month={month}"
                                          "&created_at__year={year}",
    "search: request id": "/admin/predictions/prediction/?q={request_id}",
    "change page (feedback form)": "/admin/predictions/prediction/{pk}/change/",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    static = tempfile.mkdtemp(prefix="mlsite-static-")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))} | {
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{DB}",
        "DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": "bench-" + "k" * 60, "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "0", "STATIC_ROOT": static, "MODEL_DIR": tempfile.mkdtemp(prefix="models-"),
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "train", "--missing"], cwd=ROOT, env=env, check=True, capture_output=True)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mlsite.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from predictions.models import Prediction

    user = get_user_model().objects.create_user("bench", password="bench-pass-1", is_staff=True)
    client = Client()
    client.force_login(user)
    results: dict[int, dict[str, float]] = {}
    shown: dict[int, dict[str, int]] = {}
    for rows in (args.small, args.large):
        started = time.monotonic()
        call_command("seed_history", rows=rows, truncate=True, stdout=io.StringIO())
        print(f"seeded {rows:,} rows in {time.monotonic() - started:.0f} s", flush=True)
        last = Prediction.objects.order_by("-created_at", "-id").first()
        month = timezone.now() - timezone.timedelta(days=30)
        values = {"request_id": last.request_id, "pk": last.pk, "month": month.month, "year": month.year}
        results[rows], shown[rows] = {}, {}
        for name, template in PAGES.items():
            url = template.format(**values)
            warm = client.get(url)
            assert warm.status_code == 200, url  # warm-up, and a check that the page works
            shown[rows][name] = warm.content.count(b'class="action-select"')  # one checkbox per listed row
            times = []
            for _ in range(args.repeats):
                t = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200
            results[rows][name] = statistics.median(times)
    small, large = args.small, args.large
    print()
    print(f"| page | {small:,} rows | {large:,} rows | ratio | rows listed ({small:,} / {large:,}) |")
    print("|---|---:|---:|---:|---:|")
    for name in PAGES:
        a, b = results[small][name], results[large][name]
        listed = f"{shown[small][name]} / {shown[large][name]}" if shown[large][name] else "form"
        print(f"| {name} | {a:.1f} ms | {b:.1f} ms | {b / a:.2f}x | {listed} |")
    print(f"\nmedian of {args.repeats} requests after a warm-up; Django test client, DEBUG off, PostgreSQL "
          f"(local); goal: each page <= 300 ms at 1M rows and <= 1.5x its 1k time")


if __name__ == "__main__":
    main()
