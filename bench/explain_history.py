"""EXPLAIN ANALYZE of the history's main queries on 1,000,000 rows: B-tree vs BRIN on created_at.

Usage: .venv/bin/python bench/explain_history.py [--rows 1000000] [--database bench_explain]
Creates (or reuses) a scratch PostgreSQL database on 127.0.0.1, migrates it, fills it with generate_series (fast,
no Python per row) and prints the plans and timings quoted in bench/README.md ("History indexes").
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
# manage.py and in-process Django here are local tools, like `make run`: DEBUG on (production is the default).
os.environ.setdefault("DJANGO_DEBUG", "1")

FILL = """
TRUNCATE predictions_prediction CASCADE;
INSERT INTO predictions_prediction (request_id, created_at, model_name, model_version, channel, status, inputs,
                                    outputs, latency_ms, feedback_note)
SELECT gen_random_uuid(), now() - interval '90 days' + (i * interval '90 days' / %(rows)s),
       CASE WHEN i %% 3 = 0 THEN 'iris' ELSE 'diamonds' END, '1',
       (ARRAY['api','form','batch','legacy','v2','mlflow'])[1 + (i %% 6)],
       CASE WHEN i %% 50 = 0 THEN 'rejected' WHEN i %% 997 = 0 THEN 'error' ELSE 'ok' END,
       jsonb_build_object('carat', (i %% 300) / 100.0 + 0.2, 'cut', 'Ideal'),
       jsonb_build_object('prediction', i %% 10000), 0.5, ''
FROM generate_series(1, %(rows)s) AS i;
ANALYZE predictions_prediction;
"""

QUERIES = {
    "newest page": "SELECT id, created_at FROM predictions_prediction ORDER BY created_at DESC, id DESC LIMIT 50",
    "newest page, one model": "SELECT id FROM predictions_prediction WHERE model_name = 'iris' "
                              "ORDER BY created_at DESC, id DESC LIMIT 50",
    "newest page, status=error (0.1 %)": "SELECT id FROM predictions_prediction WHERE status = 'error' "
                                         "ORDER BY created_at DESC, id DESC LIMIT 50",
    "newest page, channel=v2": "SELECT id FROM predictions_prediction WHERE channel = 'v2' "
                               "ORDER BY created_at DESC, id DESC LIMIT 50",
    "count, last day": "SELECT count(*) FROM predictions_prediction WHERE created_at >= now() - interval '1 day'",
    "hourly buckets, one model, 7 days": "SELECT date_trunc('hour', created_at), count(*) FROM "
                                         "predictions_prediction WHERE model_name = 'diamonds' AND created_at >= "
                                         "now() - interval '7 days' GROUP BY 1",
}


def explain(cursor, sql: str) -> tuple[float, str]:
    rows = cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}").fetchall()
    plan = "\n".join(r[0] for r in rows)
    return float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)), plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database", default="bench_explain")
    parser.add_argument("--verbose", action="store_true", help="print whole plans")
    args = parser.parse_args()
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "root", args.database], capture_output=True)
    url = f"postgres://root@127.0.0.1:5432/{args.database}"
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True,
                   env=os.environ | {"DATABASE_URL": url})
    with psycopg.connect(host="127.0.0.1", user="root", dbname=args.database, autocommit=True) as conn:
        cursor = conn.cursor()
        for statement in filter(str.strip, (FILL % {"rows": args.rows}).split(";")):
            cursor.execute(statement)
        print(f"{args.rows:,} rows; indexes:")
        for name, size in cursor.execute(
            "SELECT indexname, pg_size_pretty(pg_relation_size(indexname::regclass)) FROM pg_indexes "
            "WHERE tablename = 'predictions_prediction' ORDER BY 1"
        ):
            print(f"  {name:45} {size}")
        variants = {"B-tree (shipped)": [], "BRIN on created_at instead": [
            "CREATE INDEX bench_brin ON predictions_prediction USING brin (created_at)",
            "DROP INDEX prediction_newest", "DROP INDEX prediction_model_newest"]}
        results: dict[str, dict[str, float]] = {}
        for variant, ddl in variants.items():
            cursor.execute("BEGIN")
            for statement in ddl:
                cursor.execute(statement)
            if ddl:
                brin = cursor.execute("SELECT pg_size_pretty(pg_relation_size('bench_brin'))").fetchone()[0]
                print(f"  {'bench_brin (BRIN)':45} {brin}")
            for label, sql in QUERIES.items():
                best = min(explain(cursor, sql)[0] for _ in range(3))
                results.setdefault(label, {})[variant] = best
                if args.verbose:
                    print(explain(cursor, sql)[1])
            cursor.execute("ROLLBACK")
        print(f"\n{'query':40} " + " ".join(f"{v:>28}" for v in variants))
        for label, timings in results.items():
            print(f"{label:40} " + " ".join(f"{timings[v]:>25.2f} ms" for v in variants))


if __name__ == "__main__":
    main()
