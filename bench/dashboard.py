"""Timings of the monitoring dashboard's reads on 1,000,000 history rows (PostgreSQL).

Usage: .venv/bin/python bench/dashboard.py [--rows 1000000] [--database bench_dashboard]
Fills a scratch database with generate_series: diamonds and iris rows spread over the last 30 days (so the 30d
window holds all of them, the worst case), full diamonds inputs, 2 % rejected, 1 % reviewed. Then times each read of
predictions/domain/stats.py per window, and the whole /dashboard/ page as a staff user would load it (uncached).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# manage.py and in-process Django here are local tools, like `make run`: DEBUG on (production is the default).
os.environ.setdefault("DJANGO_DEBUG", "1")
sys.path.insert(0, str(ROOT))

FILL = """
TRUNCATE predictions_prediction CASCADE;
INSERT INTO predictions_prediction (request_id, created_at, model_name, model_version, channel, status, inputs,
                                    outputs, latency_ms, feedback_note, actual, reviewed_at)
SELECT gen_random_uuid(), now() - (i * interval '30 days' / %(rows)s),
       CASE WHEN i %% 3 = 0 THEN 'iris' ELSE 'diamonds' END, '1', 'api',
       CASE WHEN i %% 50 = 0 THEN 'rejected' WHEN i %% 997 = 0 THEN 'error' ELSE 'ok' END,
       CASE WHEN i %% 3 = 0 THEN jsonb_build_object('sepal_length', 4.5 + random() * 3, 'sepal_width', 2 + random() * 2,
                                                    'petal_length', 1 + random() * 5.5, 'petal_width', random() * 2.5)
            ELSE jsonb_build_object('carat', round((0.2 + random() * random() * 2.5)::numeric, 2),
                                    'cut', (ARRAY['Fair','Good','Very Good','Premium','Ideal'])[1 + (i %% 5)],
                                    'color', (ARRAY['J','I','H','G','F','E','D'])[1 + (i %% 7)],
                                    'clarity', (ARRAY['I1','SI2','SI1','VS2','VS1','VVS2','VVS1','IF'])[1 + (i %% 8)],
                                    'depth', 58 + random() * 6, 'table', 53 + random() * 8,
                                    'volume', 30 + random() * 300) END,
       CASE WHEN i %% 3 = 0 THEN jsonb_build_object('prediction', i %% 3, 'label',
                                                    (ARRAY['setosa','versicolor','virginica'])[1 + (i %% 3)])
            ELSE jsonb_build_object('prediction', 300 + (i %% 15000)) END,
       random() * 2, '',
       CASE WHEN i %% 100 = 1 THEN to_jsonb(1000 + (i %% 9000)) WHEN i %% 100 = 0 THEN '"setosa"'::jsonb END,
       CASE WHEN i %% 100 IN (0, 1) THEN now() END
FROM generate_series(1, %(rows)s) AS i;
ANALYZE predictions_prediction;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="bench_dashboard")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "root", args.database], capture_output=True)
    url = f"postgres://root@127.0.0.1:5432/{args.database}"
    model_dir = tempfile.mkdtemp(prefix="bench-dashboard-models-")
    os.environ.update(DATABASE_URL=url, MODEL_DIR=model_dir, DJANGO_SETTINGS_MODULE="mlsite.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)

    import django

    django.setup()
    import ml
    from predictions.domain import catalogue
    from predictions.models import RegisteredModel

    RegisteredModel.objects.all().delete()  # a scratch database: its catalogue is this run's fresh models
    ml.train("iris", Path(model_dir))
    ml.train("diamonds", Path(model_dir), max_rows=5000)
    for name in ("iris", "diamonds"):
        catalogue.model_adopt(name=name, version="1", source="trained")

    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from predictions.domain import stats

    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(FILL % {"rows": args.rows})
        print(f"filled {args.rows:,} rows in {time.perf_counter() - started:.0f} s")
    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True})
    client = Client()
    client.force_login(user)

    def timed(fn) -> float:
        runs = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            fn()
            runs.append((time.perf_counter() - started) * 1000)
        return statistics.median(runs)

    print(f"median of {args.repeat} runs, ms; model diamonds ({args.rows * 2 // 3:,} rows in 30 days)")
    print(f"{'window':>6} {'rows':>9} {'volume':>8} {'latency':>8} {'histogram':>9} {'drift':>8} {'quality':>8} "
          f"{'page':>8}")
    for key, window in stats.WINDOWS.items():
        end = timezone.now()
        span = {"model": "diamonds", "start": end - window.span, "end": end}
        _, manifest, _ = stats.served_manifest("diamonds")
        rows = sum(b.ok for b in stats.volume_series(bucket=window.bucket, **span))
        figures = [
            timed(lambda span=span, window=window: stats.volume_series(bucket=window.bucket, **span)),
            timed(lambda span=span: stats.latency_stats(**span)),
            timed(lambda span=span, manifest=manifest: stats.value_histogram(manifest=manifest, **span)),
            timed(lambda span=span, n=rows: stats.input_drift(scored=n, **span)),
            timed(lambda span=span, m=manifest, n=rows: stats.live_quality(scored=n, manifest=m, **span)),
            timed(lambda key=key: (cache.clear(), client.get(f"/dashboard/?model=diamonds&window={key}"))),
        ]
        print(f"{key:>6} {rows:>9,} " + " ".join(f"{v:>8.0f}" for v in figures))


if __name__ == "__main__":
    main()
