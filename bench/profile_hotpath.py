"""Where a request's CPU goes: mlsite against the original iris app, by process and by code, under wrk load.

    .venv/bin/python bench/profile_hotpath.py [--duration 8] [--no-py-spy]

Same servers and load as bench/run.py (2 sync gunicorn workers each, wrk -t2 -c8, PostgreSQL database
bench_profile, strict persistence, DEBUG off). For each endpoint it reads the CPU time (utime + stime from
/proc/<pid>/stat) that the app's workers, every PostgreSQL process and wrk itself used during the run, and divides by
the requests answered. On a machine whose cores are all busy, throughput is (cores) / (CPU per request, all
processes together), so this table says what a request costs and who pays for it.

Then py-spy samples both mlsite workers (wall clock, idle included) under the iris API load and sorts each sample
into what the worker was doing: waiting on PostgreSQL, Django/DRF request handling, validation, scoring, ...
The raw samples (py-spy "raw" collapsed stacks) are written next to the report.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run  # bench/run.py: servers, wrk, parsing

DB = "bench_profile"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICK


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# What a sample's stack says the worker was doing; the first rule that matches a frame (leaf first) wins.
CATEGORIES = [
    ("waiting for PostgreSQL (commit, insert)", ("psycopg/", "psycopg_binary", "psycopg_c")),
    ("scoring (ml/, numpy, scikit-learn)", ("/ml/registry.py", "/ml/scoring.py", "sklearn/", "numpy/")),
    ("validation (ml/schema.py)", ("/ml/schema.py", "/ml/features.py")),
    ("Django ORM (building the INSERT)", ("django/db/",)),
    ("mlsite views, serializers, services", ("/predictions/",)),
    ("DRF", ("rest_framework/",)),
    ("Django request/response, middleware", ("django/",)),
    ("Prometheus client", ("prometheus_client/",)),
    ("gunicorn: waiting for a request, reading, writing", ("gunicorn/",)),
]


def classify_ordered(stack: str) -> str:
    # Leaf-first: the innermost frame that belongs to a known category decides.
    for frame in stack.split(";")[::-1]:
        for label, needles in CATEGORIES:
            if any(needle in frame for needle in needles):
                return label
    return "other"


def summarise(raw: Path) -> list[tuple[str, float]]:
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        label = "waiting for PostgreSQL (commit, insert)" if any(
            "psycopg" in frame for frame in stack.split(";")) else classify_ordered(stack)
        counts[label] += int(n)
    total = sum(counts.values()) or 1
    return [(label, 100 * n / total) for label, n in counts.most_common()]


def shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(run.ROOT)) if path.is_relative_to(run.ROOT) else str(path)


def hottest(raw: Path, top: int) -> list[tuple[str, float]]:
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if stack and n.isdigit():
            leaf = stack.split(";")[-1]
            name, _, where = leaf.partition(" (")
            where = where.rstrip(")").split("site-packages/")[-1].replace(str(run.ROOT) + "/", "")
            counts[f"{name} ({where.rsplit(':', 1)[0]})"] += int(n)
    total = sum(counts.values()) or 1
    return [(frame, 100 * n / total) for frame, n in counts.most_common(top)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-py-spy", dest="py_spy", action="store_false")
    parser.add_argument("--out", type=Path, default=run.ROOT / "bench" / "results" / "latest" / "profile")
    args = parser.parse_args()
    wrk = run.ensure_wrk()
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="mlsite-profile-"))
    original_env, env = run.prepare(workdir, DB, args.workers)

    servers: dict[str, run.Server] = {}
    lines = []
    try:
        port = run.free_port()
        servers["original-iris"] = run.start(
            "original-iris", [run.PY, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                              "iris_app:app"], original_env, port,
            workdir, run.ROOT / "bench" / "originals")
        port = run.free_port()
        servers["mlsite"] = run.start("mlsite", [run.PY, "-m", "gunicorn", "-c", "gunicorn.conf.py"],
                                      env | {"PORT": str(port)}, port, workdir, run.ROOT)
        run.wait_healthy(servers["original-iris"], "/predict", "POST", run.IRIS_LEGACY_BODY, args.workers)
        run.wait_healthy(servers["mlsite"], "/healthz", workers=args.workers)
        scenarios = [
            run.Scenario("original-iris", "original-iris", "POST", "/predict", run.IRIS_LEGACY_BODY),
            run.Scenario("mlsite-healthz", "mlsite", "GET", "/healthz"),
            run.Scenario("mlsite-iris-legacy", "mlsite", "POST", "/predict", run.IRIS_LEGACY_BODY),
            run.Scenario("mlsite-iris-api", "mlsite", "POST", "/api/models/iris/predict", run.IRIS_BODY),
            run.Scenario("mlsite-diamonds-api", "mlsite", "POST", "/api/models/diamonds/predict", run.DIAMOND_BODY),
        ]
        load = argparse.Namespace(threads=args.threads, connections=args.connections, duration=args.duration)
        warm = argparse.Namespace(threads=args.threads, connections=args.connections, duration=2)
        lines.append("| endpoint | req/s | app workers | PostgreSQL | wrk | all | 2 cores / all |")
        lines.append("|---|---:|---:|---:|---:|---:|---:|")
        for scenario in scenarios:
            server = servers[scenario.server]
            url = f"http://127.0.0.1:{server.port}{scenario.path}"
            run.run_wrk(wrk, url, scenario, warm, workdir)
            time.sleep(0.5)
            app_pids = [server.process.pid, *server.workers()]
            pg_pids = postgres_pids()
            app0, pg0, wrk0 = cpu_seconds(app_pids), cpu_seconds(pg_pids), children_cpu()
            stats, _ = run.run_wrk(wrk, url, scenario, load, workdir)
            app1, pg1, wrk1 = cpu_seconds(app_pids), cpu_seconds(pg_pids), children_cpu()
            n = stats["requests"]
            per = [1000 * (app1 - app0) / n, 1000 * (pg1 - pg0) / n, 1000 * (wrk1 - wrk0) / n]
            ceiling = (os.cpu_count() or 2) * 1000 / sum(per)
            lines.append(f"| {scenario.name} | {stats['rps']:.0f} | {per[0]:.3f} ms | {per[1]:.3f} ms | "
                         f"{per[2]:.3f} ms | {sum(per):.3f} ms | {ceiling:.0f} req/s |")
            print(lines[-1], flush=True)
        lines += ["", "CPU milliseconds per answered request, by process group, during "
                  f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s; PostgreSQL counts every "
                  "postgres process (backends, WAL writer, ...)."]

        if args.py_spy:
            py_spy = Path(run.PY).with_name("py-spy")
            if not py_spy.exists():
                subprocess.run([run.PY, "-m", "pip", "install", "-q", "py-spy"], check=True)
            server = servers["mlsite"]
            scenario = scenarios[3]
            for mode, flags in (("wall", ["--idle"]), ("cpu", [])):
                raws, spies = [], []
                for pid in server.workers():
                    raw = args.out / f"py-spy-{mode}-{pid}.txt"
                    raws.append(raw)
                    spies.append(subprocess.Popen(
                        [str(py_spy), "record", "--pid", str(pid), "--duration", str(args.duration), "--rate",
                         "200", *flags, "--nonblocking", "--format", "raw", "--output", str(raw)],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                time.sleep(0.5)
                run.run_wrk(wrk, f"http://127.0.0.1:{server.port}{scenario.path}", scenario, load, workdir)
                for spy in spies:
                    spy.wait(timeout=60)
                merged = args.out / f"py-spy-iris-api-{mode}.txt"
                merged.write_text("".join(raw.read_text() for raw in raws if raw.exists()))
                for raw in raws:
                    raw.unlink(missing_ok=True)
                title = ("wall-clock time (idle included)" if mode == "wall"
                         else "time on the CPU (idle samples left out)")
                lines += ["", f"| where an mlsite worker's {title} goes, iris API | share |", "|---|---:|"]
                lines += [f"| {label} | {share:.1f} % |" for label, share in summarise(merged)]
                if mode == "cpu":
                    lines += ["", "| hottest functions on the CPU (self time) | share |", "|---|---:|"]
                    lines += [f"| `{frame}` | {share:.1f} % |" for frame, share in hottest(merged, 15)]
            lines += ["", f"py-spy record --rate 200 on both workers for {args.duration} s under the same load, "
                      f"once with --idle and once without; raw stacks in "
                      f"{shown(args.out)}/py-spy-iris-api-{{wall,cpu}}.txt"]
    finally:
        for server in servers.values():
            server.stop()
    report = "\n".join(lines)
    print("\n" + report)
    (args.out / "report.md").write_text(report + "\n")


if __name__ == "__main__":
    main()
