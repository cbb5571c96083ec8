from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from predictions.domain import services
from predictions.models import Channel
from tests.monitoring.seed import diamond_rows

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def score(rows):
    services.prediction_batch_create(model_name="diamonds", rows=rows, origin=services.Origin(channel=Channel.BATCH),
                                     max_rows=len(rows))


def report(*args) -> tuple[str, int]:
    out = StringIO()
    try:
        call_command("drift_report", *args, stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc.returncode
    return out.getvalue(), 0


def test_it_prints_the_table_and_exits_0_on_training_like_inputs():
    score(diamond_rows(1500))
    text, code = report("--model", "diamonds", "--since", "7d")
    assert code == 0
    lines = text.splitlines()
    assert lines[1].split() == ["feature", "PSI", "level", "rows"]
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"carat", "cut", "color", "clarity", "depth", "table", "volume"}
    assert all(r[2] == "stable" and r[3] == "1500" for r in rows.values())


def test_it_exits_1_when_a_feature_drifts_significantly():
    score(diamond_rows(1500, carat_factor=1.8))
    text, code = report("--model", "diamonds", "--since", "24h")
    assert code == 1
    carat = next(line for line in text.splitlines() if line.startswith("carat"))
    assert "significant" in carat and float(carat.split()[1]) >= 0.25


def test_fail_on_never_reports_without_failing_and_json_is_parseable():
    score(diamond_rows(1500, carat_factor=1.8))
    text, code = report("--model", "diamonds", "--fail-on", "never", "--json")
    assert code == 0
    body = json.loads(text)
    assert body["worst"] == "significant" and body["rows"] == 1500
    assert {f["name"]: f["level"] for f in body["features"]}["carat"] == "significant"


def test_an_empty_window_is_no_data_not_drift():
    text, code = report("--model", "iris", "--since", "1h")
    assert code == 0
    assert all("no data" in line for line in text.splitlines()[2:])


def test_a_bad_duration_exits_2():
    _, code = report("--model", "iris", "--since", "yesterday")
    assert code == 2


@pytest.mark.postgres  # another process cannot see SQLite's in-memory test database
@pytest.mark.django_db(transaction=True)
def test_the_exit_status_reaches_the_shell(trained_model_dir):
    from django.db import connection

    db = connection.settings_dict
    env = {"MODEL_DIR": str(trained_model_dir), "PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1",
           "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    score(diamond_rows(800, carat_factor=1.8))
    result = subprocess.run([sys.executable, "manage.py", "drift_report", "--model", "diamonds"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "carat" in result.stdout and "input drift at or above significant" in result.stderr
