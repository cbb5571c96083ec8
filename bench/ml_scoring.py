"""Scoring cost of the default diamonds model against the original app's RandomForest, side by side.

    .venv/bin/python bench/ml_scoring.py [--repeats 200]

Trains both into a temporary MODEL_DIR with `ml.train` (the RandomForest exactly as the original kept it:
n_jobs=-1, 100 trees, full depth), then measures the median time to score one row and 10,000 rows through the
registry's LoadedModel.predict (what every request uses: the verified lean path where one exists) and through the
bare estimator's predict, and the artifact size on disk.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import ml
from ml.fastpath import _random_inputs


def median_ms(function, repeats: int) -> float:
    for _ in range(min(repeats, 20)):
        function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    spec = ml.get_recipe("diamonds").card
    model_dir = Path(tempfile.mkdtemp(prefix="mlsite-scoring-"))
    rows = []
    for algorithm in ("hist_gradient_boosting", "random_forest"):
        started = time.perf_counter()
        result = ml.train("diamonds", model_dir, algorithm=algorithm)
        fit = time.perf_counter() - started
        model = ml.Registry.from_directory(model_dir).get("diamonds", result.version)
        X = _random_inputs(spec.schema, 10_000)
        one_row = [dict(zip(spec.schema.names, X[0], strict=True))]
        batch = [dict(zip(spec.schema.names, x, strict=True)) for x in X]
        rows.append({
            "algorithm": algorithm,
            "r2": result.manifest["metrics"]["r2"],
            "artifact_mb": result.manifest["size_bytes"] / 1e6,
            "train_and_save_s": fit,
            "one_row_ms": median_ms(lambda m=model, r=one_row: m.predict(r), args.repeats),
            "one_row_estimator_ms": median_ms(lambda m=model, x=X[:1]: m.estimator.predict(x), args.repeats),
            "batch_ms": median_ms(lambda m=model, b=batch: m.predict(b), max(args.repeats // 20, 5)),
            "batch_estimator_ms": median_ms(lambda m=model, x=X: m.estimator.predict(x), max(args.repeats // 20, 5)),
            "lean": model.lean,
        })
    hgb, rf = rows
    print("| model | R² (test) | artifact | 1 row, served | 1 row, estimator.predict | 10,000 rows, served "
          "| 10,000 rows, estimator.predict |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['algorithm']}{' (lean path)' if r['lean'] else ''} | {r['r2']:.4f} | {r['artifact_mb']:.1f} MB "
              f"| {r['one_row_ms']:.3f} ms | {r['one_row_estimator_ms']:.3f} ms | {r['batch_ms']:.1f} ms "
              f"| {r['batch_estimator_ms']:.1f} ms |")
    print(f"\nrandom_forest / hist_gradient_boosting: one row served {rf['one_row_ms'] / hgb['one_row_ms']:.0f}x, "
          f"10,000 rows served {rf['batch_ms'] / hgb['batch_ms']:.1f}x, "
          f"artifact {rf['artifact_mb'] / hgb['artifact_mb']:.0f}x")
    print(f"(median of {args.repeats} single-row calls; numpy {np.__version__})")


if __name__ == "__main__":
    main()
