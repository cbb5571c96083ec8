"""The benchmarks keep working: each script in bench/ runs end to end in a tiny configuration and prints its table.

The figures themselves are not asserted (speed is measured by `make bench`, not by timed tests); only that every
script runs, reports what bench/README.md quotes, and that mlsite answered without errors under the harness.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow]


def run(*args: str, timeout: int = 300) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_ml_scoring_compares_the_default_model_with_the_original_forest():
    out = run("bench/ml_scoring.py", "--repeats", "2")
    assert "| hist_gradient_boosting (lean path) |" in out and "| random_forest |" in out
    assert "one row served" in out


@pytest.mark.postgres
def test_history_cost_runs_on_postgres():
    out = run("bench/history.py", "--rows", "200", "--repeats", "1", "--singles", "20")
    assert "200-row batch" in out and "one recorded prediction" in out


@pytest.mark.postgres
def test_explain_history_compares_btree_and_brin():
    out = run("bench/explain_history.py", "--rows", "5000", "--database", "bench_explain_smoke")
    assert "BRIN" in out and "B-tree" in out


@pytest.mark.postgres
def test_the_http_harness_drives_the_originals_and_mlsite(tmp_path):
    run("bench/run.py", "--duration", "1", "--out", str(tmp_path), timeout=420)
    results = {r["scenario"]: r for r in json.loads((tmp_path / "results.json").read_text())["results"]}
    assert {"original-iris", "original-diamonds", "mlsite-iris-api", "mlsite-diamonds-api", "mlsite-iris-legacy",
            "mlsite-diamonds-legacy", "mlsite-healthz", "iris-api-no-prepared-statements",
            "diamonds-api-sklearn-predict"} <= set(results)
    for name, result in results.items():
        assert result["requests"] > 0 and result["non_2xx"] == 0 and result["errors"] == 0, (name, result)
        if name.startswith("mlsite") and name != "mlsite-healthz" or "-api-" in name:
            assert result["rows_check"] == "ok", (name, result)  # one committed row per answered prediction


@pytest.mark.postgres
def test_the_profile_splits_cpu_by_process_and_samples_the_workers(tmp_path):
    run("bench/profile_hotpath.py", "--duration", "1", "--out", str(tmp_path), timeout=300)
    report = (tmp_path / "report.md").read_text()
    for endpoint in ("original-iris", "mlsite-healthz", "mlsite-iris-legacy", "mlsite-iris-api", "mlsite-diamonds-api"):
        row = next(line for line in report.splitlines() if line.startswith(f"| {endpoint} |"))
        app_ms = float(row.split("|")[3].split()[0])
        assert app_ms > 0, row  # the workers' CPU time was read
    api = next(line for line in report.splitlines() if line.startswith("| mlsite-iris-api |"))
    assert float(api.split("|")[4].split()[0]) > 0  # a recorded prediction costs PostgreSQL some CPU; healthz none
    for mode in ("wall", "cpu"):
        stacks = (tmp_path / f"py-spy-iris-api-{mode}.txt").read_text()
        assert "predictions/domain/services.py" in stacks  # py-spy sampled the predict path in the workers
    shares = [float(line.rsplit("|", 2)[1].split()[0]) for line in report.splitlines()
              if line.startswith("| ") and line.rstrip().endswith("% |") and "`" not in line]
    assert 199 < sum(shares) < 201  # two breakdowns, each adding up to 100 %
