"""mlsite against the two original Flask apps, side by side, in one run (`make bench`).

    .venv/bin/python bench/run.py [--duration 15] [--connections 8] [--quick] [--workers 2]

Starts (a) replicas of the original apps (bench/originals/: Flask + gunicorn -w 2, sync workers, no persistence;
iris LogisticRegression, diamonds RandomForestRegressor(n_jobs=-1)) and (b) mlsite under gunicorn.conf.py with the
same number of sync workers, on PostgreSQL (database bench_mlsite, recreated), strict persistence, DEBUG off,
throttling off. Each endpoint gets the same load from wrk (installed with apt-get when missing). Reports req/s,
p50/p99 latency, errors and memory per worker (RSS, PSS, USS from /proc/<pid>/smaps_rollup), checks that mlsite
committed one history row per answered prediction, prints ratios against the targets of issue 13 and writes the raw
wrk output and a results.json to bench/results/<date>-<host>/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
# manage.py and in-process Django here are local tools, like `make run`: DEBUG on (production is the default).
os.environ.setdefault("DJANGO_DEBUG", "1")
PY = sys.executable
DB = "bench_mlsite"
PG = {"host": "127.0.0.1", "port": 5432, "user": os.environ.get("PGUSER", "root")}

IRIS_BODY = '{"sepal_length": 5.9, "sepal_width": 3.0, "petal_length": 5.1, "petal_width": 1.8}'
IRIS_LEGACY_BODY = "[5.9, 3.0, 5.1, 1.8]"
DIAMOND_QUERY = "carat=0.37&cut=3&color=0&clarity=2&depth=59.2&table=61.0&volume=60.063"
DIAMOND_BODY = ('{"carat": 0.37, "cut": "Premium", "color": "J", "clarity": "SI1", "depth": 59.2, "table": 61.0, '
                '"volume": 60.063}')


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def workers(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Scenario:
    name: str
    server: str
    method: str
    path: str
    body: str | None = None


@dataclass
class Result:
    scenario: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    rss_mb: float
    pss_mb: float
    uss_mb: float
    rows_committed: int | None = None
    rows_check: str = ""
    extra: dict = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("installing wrk (Debian package)")
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, env=os.environ | {
        "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk") or sys.exit("wrk could not be installed")


def wait_healthy(server: Server, path: str, method: str = "GET", body: str | None = None, workers: int = 2) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            sys.exit(f"{server.name} exited:\n{server.log.read_text()[-3000:]}")
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{server.port}{path}", method=method,
                                             data=body.encode() if body else None,
                                             headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status < 300 and len(server.workers()) >= workers:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit(f"{server.name} did not answer:\n{server.log.read_text()[-3000:]}")


def start(name: str, command: list[str], env: dict, port: int, workdir: Path, cwd: Path) -> Server:
    log = workdir / f"{name}.log"
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return Server(name=name, port=port, process=process, log=log)


def memory(pids: list[int]) -> tuple[float, float, float]:
    """Mean RSS, PSS and USS of the given processes, in MB."""
    rss = pss = uss = 0.0
    for pid in pids:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, value = line.split(":", 1)
            fields[key] = int(value.split()[0])
        rss += fields["Rss"]
        pss += fields["Pss"]
        uss += fields["Private_Clean"] + fields["Private_Dirty"]
    n = max(len(pids), 1) * 1024
    return rss / n, pss / n, uss / n


LUA = """wrk.method = "{method}"
{body}wrk.headers["Content-Type"] = "application/json"
"""


def run_wrk(wrk: str, url: str, scenario: Scenario, args, workdir: Path) -> tuple[dict, str]:
    script = workdir / f"{scenario.name}.lua"
    body = f"wrk.body = {json.dumps(scenario.body)}\n" if scenario.body else ""
    script.write_text(LUA.format(method=scenario.method, body=body))
    command = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
               "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse_wrk(output), output


def parse_wrk(output: str) -> dict:
    def ms(text: str) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    requests, seconds = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).groups()[:2]
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", output, flags=re.M))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    duration = float(re.search(r"requests in ([\d.]+)(\w+),", output).group(1))
    unit = re.search(r"requests in [\d.]+(\w+),", output).group(1)
    duration *= {"s": 1, "m": 60, "ms": 0.001}[unit]
    return {
        "requests": int(requests),
        "seconds": duration,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": ms(percentiles["50"]),
        "p99_ms": ms(percentiles["99"]),
        "errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def history_rows() -> int:
    with psycopg.connect(**PG, dbname=DB) as conn:
        return conn.execute("SELECT count(*) FROM predictions_prediction WHERE status = 'ok'").fetchone()[0]


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return {"host": socket.gethostname(), "cpus": os.cpu_count(), "cpu": cpu, "ram_gb": mem,
            "python": platform.python_version(), "kernel": platform.release()}


def prepare(workdir: Path, db: str, workers: int) -> tuple[dict, dict]:
    """Train the original apps' models and mlsite's defaults into ``workdir``, recreate and migrate database ``db``.
    Returns the environment for the originals and the one for mlsite (DEBUG off, strict persistence, throttling
    off, ``workers`` sync workers)."""
    subprocess.run([PY, str(ROOT / "bench" / "originals" / "train.py"), str(workdir / "originals")], check=True)
    with psycopg.connect(**PG, dbname="postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {db}")
        conn.execute(f"CREATE DATABASE {db}")
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "GUNICORN_"))}
    (workdir / "prometheus").mkdir(exist_ok=True)
    mlsite_env = base_env | {
        "DATABASE_URL": f"postgres://{PG['user']}@{PG['host']}:{PG['port']}/{db}",
        "MODEL_DIR": str(workdir / "models"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + "k" * 60,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "PREDICT_THROTTLE_RATE": "off",
        "PREDICTION_LOG_MODE": "strict",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_MAX_REQUESTS": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / "prometheus"),
    }
    subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, check=True, env=mlsite_env)
    # Trained into MODEL_DIR and entered in this database's catalogue, as `make run` does.
    subprocess.run([PY, "manage.py", "train"], cwd=ROOT, check=True, capture_output=True, env=mlsite_env)
    return base_env | {"ORIGINALS_DIR": str(workdir / "originals")}, mlsite_env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, the same for every app")
    parser.add_argument("--quick", action="store_true", help="3 s per endpoint: a smoke run")
    parser.add_argument("--no-ablation", dest="ablation", action="store_false",
                        help="skip the runs with one hot-path change switched off")
    parser.add_argument("--out", type=Path, help="results directory (default bench/results/<date>-<host>)")
    args = parser.parse_args()
    if args.quick:
        args.duration = 3
    started = time.monotonic()
    wrk = ensure_wrk()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    out = args.out or ROOT / "bench" / "results" / f"{stamp}-{socket.gethostname()}"
    out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="mlsite-bench-"))
    print(f"work directory {workdir}; results to {out}")

    print("training the original apps' models and mlsite's defaults, migrating a fresh database …")
    t = time.monotonic()
    original_env, mlsite_env = prepare(workdir, DB, args.workers)
    print(f"  ready in {time.monotonic() - t:.0f} s")

    servers: dict[str, Server] = {}
    try:
        for name, app in (("original-iris", "iris_app:app"), ("original-diamonds", "diamonds_app:app")):
            port = free_port()
            servers[name] = start(name, [PY, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                                         app], original_env, port, workdir, ROOT / "bench" / "originals")
        # mlsite as shipped, and (for "what each change bought") with one hot-path change switched off.
        variants = {"mlsite": {}}
        if args.ablation:
            variants |= {"mlsite-no-prepared-statements": {"DB_PREPARED_STATEMENTS": "0"},
                         "mlsite-no-lean-scoring": {"MLSITE_LEAN_SCORING": "0"},
                         "mlsite-gthread": {"GUNICORN_THREADS": "2"}}
        for name, extra in variants.items():
            (workdir / f"prom-{name}").mkdir(exist_ok=True)
            port = free_port()
            servers[name] = start(name, [PY, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                                  mlsite_env | extra | {"PORT": str(port),
                                                        "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"prom-{name}")},
                                  port, workdir, ROOT)
        wait_healthy(servers["original-iris"], "/predict", "POST", IRIS_LEGACY_BODY, args.workers)
        wait_healthy(servers["original-diamonds"], f"/api/predict?{DIAMOND_QUERY}", workers=args.workers)
        for name in variants:
            wait_healthy(servers[name], "/healthz", workers=args.workers)

        scenarios = [
            Scenario("original-iris", "original-iris", "POST", "/predict", IRIS_LEGACY_BODY),
            Scenario("mlsite-iris-api", "mlsite", "POST", "/api/models/iris/predict", IRIS_BODY),
            Scenario("mlsite-iris-legacy", "mlsite", "POST", "/predict", IRIS_LEGACY_BODY),
            Scenario("original-diamonds", "original-diamonds", "GET", f"/api/predict?{DIAMOND_QUERY}"),
            Scenario("mlsite-diamonds-api", "mlsite", "POST", "/api/models/diamonds/predict", DIAMOND_BODY),
            Scenario("mlsite-diamonds-legacy", "mlsite", "GET", f"/api/predict?{DIAMOND_QUERY}"),
            # The floor: Django + middleware + gunicorn answering without the database or a model.
            Scenario("mlsite-healthz", "mlsite", "GET", "/healthz"),
        ]
        if args.ablation:
            scenarios += [
                Scenario("iris-api-no-prepared-statements", "mlsite-no-prepared-statements", "POST",
                         "/api/models/iris/predict", IRIS_BODY),
                Scenario("iris-api-sklearn-predict", "mlsite-no-lean-scoring", "POST",
                         "/api/models/iris/predict", IRIS_BODY),
                Scenario("diamonds-api-sklearn-predict", "mlsite-no-lean-scoring", "POST",
                         "/api/models/diamonds/predict", DIAMOND_BODY),
                Scenario("iris-api-gthread-2-threads", "mlsite-gthread", "POST", "/api/models/iris/predict",
                         IRIS_BODY),
            ]
        results: dict[str, Result] = {}
        for scenario in scenarios:
            server = servers[scenario.server]
            url = f"http://127.0.0.1:{server.port}{scenario.path}"
            warm = Scenario(scenario.name + "-warmup", scenario.server, scenario.method, scenario.path,
                            scenario.body)
            run_wrk(wrk, url, warm, argparse.Namespace(threads=args.threads, connections=args.connections,
                                                       duration=2), workdir)
            time.sleep(0.5)  # let the warm-up's last requests finish before counting rows
            rows_before = history_rows() if server.name.startswith("mlsite") and "healthz" not in scenario.path \
                else None
            stats, raw = run_wrk(wrk, url, scenario, args, workdir)
            (out / f"{scenario.name}.wrk.txt").write_text(raw)
            rss, pss, uss = memory(server.workers())
            result = Result(scenario=scenario.name, rss_mb=round(rss, 1), pss_mb=round(pss, 1), uss_mb=round(uss, 1),
                            **stats)
            if rows_before is not None:
                time.sleep(0.5)  # requests wrk cut off at the deadline finish on the server
                result.rows_committed = history_rows() - rows_before
                answered = stats["requests"] - stats["non_2xx"]
                # wrk stops counting at its deadline: a request in flight then may be committed but not counted.
                slack = result.rows_committed - answered
                result.rows_check = "ok" if 0 <= slack <= args.connections else f"MISMATCH ({slack:+d})"
            results[scenario.name] = result
            print(f"  {scenario.name:24} {result.rps:9.1f} req/s  p50 {result.p50_ms:6.2f} ms  "
                  f"p99 {result.p99_ms:7.2f} ms  non-2xx {result.non_2xx}  RSS/worker {result.rss_mb:.0f} MB"
                  + (f"  rows {result.rows_committed} ({result.rows_check})" if rows_before is not None else ""))
    finally:
        for server in servers.values():
            server.stop()

    def ratio(a: str, b: str, key: str = "rps") -> float:
        return getattr(results[a], key) / getattr(results[b], key)

    ratios = {
        "iris: mlsite API / original (target >= 0.6, stretch 0.8)": ratio("mlsite-iris-api", "original-iris"),
        "diamonds: mlsite API / original (target >= 20)": ratio("mlsite-diamonds-api", "original-diamonds"),
        "diamonds: RSS per worker, mlsite / original (target <= 0.33)":
            ratio("mlsite-diamonds-api", "original-diamonds", "rss_mb"),
        "diamonds: PSS per worker, mlsite / original": ratio("mlsite-diamonds-api", "original-diamonds", "pss_mb"),
        "iris: legacy / API (target >= 1)": ratio("mlsite-iris-legacy", "mlsite-iris-api"),
        "diamonds: legacy / API (target >= 1)": ratio("mlsite-diamonds-legacy", "mlsite-diamonds-api"),
        "floor: mlsite /healthz / original iris predict": ratio("mlsite-healthz", "original-iris"),
    }
    if args.ablation:
        ratios |= {
            "bought: prepared statements (iris API, on / off)":
                ratio("mlsite-iris-api", "iris-api-no-prepared-statements"),
            "bought: lean scoring (iris API, on / off)": ratio("mlsite-iris-api", "iris-api-sklearn-predict"),
            "bought: lean scoring (diamonds API, on / off)":
                ratio("mlsite-diamonds-api", "diamonds-api-sklearn-predict"),
            "worker class: gthread with 2 threads / sync (iris API)":
                ratio("iris-api-gthread-2-threads", "mlsite-iris-api"),
        }
    info = machine() | {"date": stamp, "duration_s": args.duration, "connections": args.connections,
                        "wrk_threads": args.threads, "gunicorn_workers": args.workers, "worker_class": "sync",
                        "database": "PostgreSQL (local, TCP)", "persistence": "strict"}
    print()
    print("| endpoint | req/s | p50 ms | p99 ms | non-2xx | RSS/worker MB | PSS/worker MB | history rows |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for r in results.values():
        rows = "" if r.rows_committed is None else f"{r.rows_committed} ({r.rows_check})"
        print(f"| {r.scenario} | {r.rps:.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.non_2xx} | {r.rss_mb:.0f} | "
              f"{r.pss_mb:.0f} | {rows} |")
    print()
    for label, value in ratios.items():
        print(f"{label}: {value:.2f}")
    print(f"\n{info['cpus']} CPUs ({info['cpu']}), {info['ram_gb']} GB, Python {info['python']}; "
          f"{args.workers} sync workers each; wrk -t{args.threads} -c{args.connections} -d{args.duration}s; "
          f"total {time.monotonic() - started:.0f} s")
    (out / "results.json").write_text(json.dumps({"machine": info, "results": [asdict(r) for r in results.values()],
                                                  "ratios": ratios}, indent=2) + "\n")
    shutil.rmtree(workdir, ignore_errors=True)
    if any(r.rows_check.startswith("MISMATCH") for r in results.values()):
        sys.exit("history rows do not match the answered predictions")


if __name__ == "__main__":
    main()
