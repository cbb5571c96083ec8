"""Memory per gunicorn worker with the app preloaded (the default) and without, same worker count.

    .venv/bin/python bench/rss_preload.py [--workers 4] [--requests 400] [--json]

Each mode starts the real docker/entrypoint.sh web with gunicorn.conf.py (DEBUG off, both models trained into a
temporary MODEL_DIR, a temporary SQLite history unless DATABASE_URL is set), waits for /healthz, sends predictions
to both models until every worker has served some, then reads /proc/<pid>/smaps_rollup of the master and each
worker:

- RSS: resident pages, shared ones counted in full in every process — overstates a preloaded worker's cost.
- PSS: each shared page divided among the processes sharing it; the sum over master and workers is what the server
  really occupies.
- USS: pages private to the process (Private_Clean + Private_Dirty), what one more worker adds.

Linux only (/proc). Results go to stdout as a Markdown table (bench/README.md "Memory per worker: preload").
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
IRIS = {"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}
DIAMOND = {"carat": 0.7, "cut": "Ideal", "color": "G", "clarity": "VS2", "depth": 61.8, "table": 57.0, "volume": 115.1}


@dataclass
class Memory:
    rss_mb: float
    pss_mb: float
    uss_mb: float


@dataclass
class Result:
    mode: str
    workers: int
    requests: int
    master: Memory
    worker_mean: Memory
    worker_min: Memory
    worker_max: Memory
    total_pss_mb: float
    total_uss_mb: float


def smaps_rollup(pid: int) -> Memory:
    fields: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0])  # kB
    uss = fields["Private_Clean"] + fields["Private_Dirty"]
    return Memory(rss_mb=fields["Rss"] / 1024, pss_mb=fields["Pss"] / 1024, uss_mb=uss / 1024)


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(url: str, body: dict) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Host": "localhost"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def wait_for_healthz(server: subprocess.Popen, base: str, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            request = urllib.request.Request(f"{base}/healthz", headers={"Host": "localhost"})
            with urllib.request.urlopen(request, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"/healthz did not answer within {timeout} s:\n{log.read_text()}")


def measure(mode: str, *, env: dict[str, str], workers: int, requests: int, work: Path) -> Result:
    port = free_port()
    metrics_dir = work / f"metrics-{mode}"
    metrics_dir.mkdir()
    run_env = {**env, "PORT": str(port), "WEB_CONCURRENCY": str(workers), "GUNICORN_MAX_REQUESTS": "0",
               "GUNICORN_PRELOAD": "1" if mode == "preload" else "0", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    log = work / f"gunicorn-{mode}.log"
    with log.open("w") as sink:
        server = subprocess.Popen([str(ENTRYPOINT), "web"], env=run_env, stdout=sink, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_healthz(server, base, log)
        pids = children(server.pid)
        while len(pids) < workers:  # workers boot just after the socket is bound
            time.sleep(0.2)
            pids = children(server.pid)
        sent = 0
        # Concurrent clients keep every worker busy, so each one scores both models. Every worker that served a
        # prediction has written its own Prometheus counter file, which tells when all of them have.
        with ThreadPoolExecutor(max_workers=workers * 2) as pool:
            while True:
                batch = [(f"{base}/api/models/iris/predict", IRIS), (f"{base}/api/models/diamonds/predict", DIAMOND)]
                list(pool.map(lambda call: post(*call), batch * (requests // 2)))
                sent += requests
                print(f"{mode}: {sent} predictions sent", file=sys.stderr)
                served = {int(path.stem.rsplit("_", 1)[1]) for path in metrics_dir.glob("counter_*.db")}
                if set(pids) <= served or sent >= requests * 10:
                    break
        worker_memory = [smaps_rollup(pid) for pid in pids]
        master = smaps_rollup(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)

    def aggregate(pick) -> Memory:
        return Memory(*(pick(getattr(m, field) for m in worker_memory) for field in ("rss_mb", "pss_mb", "uss_mb")))

    return Result(
        mode=mode, workers=workers, requests=sent, master=master,
        worker_mean=aggregate(lambda values: sum(values) / workers), worker_min=aggregate(min),
        worker_max=aggregate(max),
        total_pss_mb=master.pss_mb + sum(m.pss_mb for m in worker_memory),
        total_uss_mb=master.uss_mb + sum(m.uss_mb for m in worker_memory),
    )


def table(results: list[Result]) -> str:
    lines = [
        "| mode | workers | master RSS | worker RSS (mean) | worker PSS (mean) | worker USS (mean, min–max) "
        "| total PSS (master + workers) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.mode} | {r.workers} | {r.master.rss_mb:.0f} MB | {r.worker_mean.rss_mb:.0f} MB "
            f"| {r.worker_mean.pss_mb:.0f} MB | {r.worker_mean.uss_mb:.1f} MB "
            f"({r.worker_min.uss_mb:.1f}–{r.worker_max.uss_mb:.1f}) | {r.total_pss_mb:.0f} MB |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--requests", type=int, default=400, help="predictions per round (both models, halved)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a Markdown table")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mlsite-rss-") as tmp:
        work = Path(tmp)
        env = {
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "HOME": os.environ.get("HOME", "/root"),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-" + "k" * 50,
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": os.environ.get("DATABASE_URL", f"sqlite:///{work / 'history.sqlite3'}"),
            "MODEL_DIR": str(work / "models"),
            "STATIC_ROOT": str(work / "static"),
            "PREDICT_THROTTLE_RATE": "off",
            "LOG_LEVEL": "WARNING",
            "HOST": "127.0.0.1",
        }
        for command in (["migrate"],):  # migrate trains the shipped models too, as compose's one-shot service
            subprocess.run([str(ENTRYPOINT), *command], env=env, check=True, capture_output=True)
        results = [measure(mode, env=env, workers=args.workers, requests=args.requests, work=work)
                   for mode in ("preload", "no preload")]

    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2))
        return
    print(table(results))
    preload, lazy = results
    print(f"\nPreload: each worker adds {preload.worker_mean.uss_mb:.1f} MB of its own (USS) instead of "
          f"{lazy.worker_mean.uss_mb:.1f} MB; the whole server occupies {preload.total_pss_mb:.0f} MB (PSS) instead "
          f"of {lazy.total_pss_mb:.0f} MB with {args.workers} workers.")


if __name__ == "__main__":
    main()
