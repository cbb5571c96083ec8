"""What recording costs: a 10,000-row batch scored and persisted end to end, and one recorded prediction.

    .venv/bin/python bench/history.py [--rows 10000] [--repeats 5] [--singles 2000]

Runs against a PostgreSQL database bench_history on 127.0.0.1 (recreated and migrated), with the default models
trained into a temporary MODEL_DIR, in strict mode, through the same service functions the HTTP views call:
services.prediction_batch_create (validate every row, score in one vectorised call, insert all rows and the batch in
one transaction) and services.prediction_create (validate, score, one committed INSERT). Prints medians and the share
of the time that is scoring.
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

import psycopg

ROOT = Path(__file__).resolve().parents[1]
# manage.py and in-process Django here are local tools, like `make run`: DEBUG on (production is the default).
os.environ.setdefault("DJANGO_DEBUG", "1")
DB = "bench_history"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--singles", type=int, default=2000)
    args = parser.parse_args()
    with psycopg.connect(host="127.0.0.1", user=os.environ.get("PGUSER", "root"), dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB}")
        conn.execute(f"CREATE DATABASE {DB}")
    model_dir = tempfile.mkdtemp(prefix="mlsite-history-")
    env = {"DATABASE_URL": f"postgres://{os.environ.get('PGUSER', 'root')}@127.0.0.1:5432/{DB}",
           "MODEL_DIR": model_dir, "DJANGO_SETTINGS_MODULE": "mlsite.settings", "PREDICTION_LOG_MODE": "strict"}
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True)
    subprocess.run([sys.executable, "manage.py", "train"], cwd=ROOT, check=True, capture_output=True)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from ml.fastpath import _random_inputs
    from predictions.domain import services
    from predictions.domain.serving import get_registry
    from predictions.models import Channel, Prediction

    origin = services.Origin(channel=Channel.API)
    model = get_registry().get("diamonds")
    schema = model.card.schema
    rows = [dict(zip(schema.names, x, strict=True)) for x in _random_inputs(schema, args.rows)]

    batch_times, scoring_times = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        outcome = services.prediction_batch_create(model_name="diamonds", rows=rows, origin=origin,
                                                   max_rows=args.rows)
        batch_times.append(time.perf_counter() - started)
        scoring_times.append(outcome.batch.latency_ms / 1000)
        assert outcome.batch.rows_ok == args.rows
    stored = Prediction.objects.filter(batch__isnull=False).count()
    assert stored == args.rows * args.repeats, stored

    one = rows[:1]
    single, scoring = [], []
    for i in range(args.singles + 100):
        started = time.perf_counter()
        services.prediction_create(model_name="diamonds", inputs=rows[i % len(rows)], origin=origin)
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        model.predict(one)
        if i >= 100:  # warm-up: prepared statements, caches
            single.append(elapsed)
            scoring.append(time.perf_counter() - started)

    batch = statistics.median(batch_times)
    print("| measure | median | |\n|---|---:|---|")
    print(f"| {args.rows:,}-row batch, validated + scored + inserted + committed | {batch * 1000:.0f} ms | "
          f"scoring {statistics.median(scoring_times) * 1000:.0f} ms of it; target <= 1000 ms |")
    print(f"| one recorded prediction (validate, score, INSERT, commit) | {statistics.median(single) * 1e6:.0f} us | "
          f"mean {statistics.mean(single) * 1e6:.0f} us |")
    print(f"| scoring alone, one row | {statistics.median(scoring) * 1e6:.0f} us | "
          f"recording costs {statistics.median(single) / statistics.median(scoring):.0f}x the scoring |")
    print(f"\n{args.repeats} batches, {args.singles} single predictions, PostgreSQL database {DB}")


if __name__ == "__main__":
    main()
