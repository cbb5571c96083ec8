"""gunicorn configuration of mlsite: `gunicorn -c gunicorn.conf.py` (docker/entrypoint.sh runs exactly that).

The app is preloaded: the master imports mlsite.wsgi, which loads and verifies every model once, and the workers
are forked from it, so they share the models, Django and the scientific stack copy-on-write instead of each holding
its own copy (bench/README.md "Memory per worker: preload" has the figures). Everything is read from the
environment; a malformed value stops start-up with a message naming the variable.

| variable | default | |
|---|---|---|
| WEB_CONCURRENCY | 2 × cores + 1, at most 8 | worker processes |
| GUNICORN_THREADS | 1 | threads per worker (more than 1 selects the gthread worker) |
| HOST, PORT | 127.0.0.1, 8000 | listen address (the image sets HOST=0.0.0.0) |
| GUNICORN_TIMEOUT | 60 | seconds a worker may spend on one request before it is killed and replaced |
| GUNICORN_GRACEFUL_TIMEOUT | GUNICORN_TIMEOUT + 5 | seconds in-flight requests get to finish after SIGTERM |
| GUNICORN_KEEPALIVE | 5 | seconds an idle keep-alive connection is held (longer than a proxy's is pointless) |
| GUNICORN_MAX_REQUESTS | 1000 | requests after which a worker is replaced (0: never), plus a random jitter |
| GUNICORN_MAX_REQUESTS_JITTER | 100 | so that the workers are not all replaced at the same moment |
| GUNICORN_PRELOAD | 1 | 0 makes every worker import the app and load the models itself (bench/rss_preload.py) |
| GUNICORN_CONTROL_SOCKET | unset | path of gunicorn's control socket (`gunicornc`); off unless set |
| GUNICORN_LOG_LEVEL | info | gunicorn's own log level (the app's is LOG_LEVEL) |
| PROMETHEUS_MULTIPROC_DIR | a fresh temporary directory | where workers write metric samples for /metrics |
"""

from __future__ import annotations

import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlsite.env import env_bool, env_int, env_str  # after the sys.path line: gunicorn may run from elsewhere


def _default_workers() -> int:
    # sched_getaffinity honours CPU pinning (docker --cpuset-cpus); a CPU quota is not visible to it, which is one
    # reason for the cap. The other: every worker keeps a persistent Postgres connection (CONN_MAX_AGE), and a few
    # scaled-out replicas must stay well under Postgres's default max_connections of 100.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(2 * cores + 1, 8)


wsgi_app = "mlsite.wsgi:application"
proc_name = "mlsite"

workers = env_int("WEB_CONCURRENCY", _default_workers(), minimum=1)
threads = env_int("GUNICORN_THREADS", 1, minimum=1)
worker_class = "gthread" if threads > 1 else "sync"
_host = env_str("HOST", "127.0.0.1")
_port = env_int("PORT", 8000, minimum=1)
bind = [f"[{_host}]:{_port}" if ":" in _host else f"{_host}:{_port}"]  # an IPv6 address needs its brackets

# A CSV batch of BATCH_UPLOAD_MAX_ROWS rows is scored and recorded inside the request, hence more than the usual 30 s.
timeout = env_int("GUNICORN_TIMEOUT", 60, minimum=1)
# Longer than the longest request a worker may serve (timeout), so that SIGTERM never cuts off an answer whose rows
# are committed: the client gets it, or (killed) retries with its X-Request-ID and gets the recorded one. Below
# docker compose's stop_grace_period (75 s), so gunicorn finishes its own shutdown before Docker's SIGKILL.
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", timeout + 5, minimum=1)
if graceful_timeout <= timeout:
    raise SystemExit(f"GUNICORN_GRACEFUL_TIMEOUT={graceful_timeout} must exceed GUNICORN_TIMEOUT={timeout}: a request "
                     "in flight at shutdown could otherwise be cut off after its rows were committed.")
keepalive = env_int("GUNICORN_KEEPALIVE", 5, minimum=0)
# Replacing workers now and then bounds the damage of any slow leak; with preload a new worker is a cheap fork.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 1000, minimum=0)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", 100, minimum=0)
preload_app = env_bool("GUNICORN_PRELOAD", True)

# Workers touch their heartbeat file every second; on an overlay filesystem that write can block, /dev/shm never does.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"

# The default control socket lives in $HOME, shared by every gunicorn of the same user (tests, benchmarks, a second
# instance), so it is opt-in here.
_control_socket = env_str("GUNICORN_CONTROL_SOCKET")
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True

# --- Logs: access log on stdout, errors on stderr; the container runtime collects both. -----------------------------
accesslog = "-"
errorlog = "-"
loglevel = env_str("GUNICORN_LOG_LEVEL", "info")
# logfmt-style, one line per request: the request id ties a log line to its history row and to the client's
# X-Request-ID; duration is seconds with microseconds.
access_log_format = (
    'remote=%(h)s forwarded_for="%({x-forwarded-for}i)s" request="%(r)s" status=%(s)s bytes=%(B)s '
    'duration_s=%(L)s request_id=%({x-request-id}o)s agent="%(a)s"'
)

# --- Native thread pools --------------------------------------------------------------------------------------------
# Each worker already is one unit of parallelism: OpenMP/BLAS pools sized to all cores in every worker oversubscribe
# the CPU, and an OpenMP pool started in the master before fork can deadlock its children. Set before the app (and
# scikit-learn) is imported; an operator's explicit value wins.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# --- Prometheus multi-process mode ----------------------------------------------------------------------------------
# prometheus_client decides at import whether to write samples to per-process files, so the directory must be in the
# environment before the app is imported (preload imports it right after this file is read). It must start empty:
# samples left by a previous run would be summed into this one's. gunicorn re-reads this file on SIGHUP; the
# directory is prepared once per master process, never while workers are writing to it.
_OWNER = "MLSITE_PROMETHEUS_DIR_OWNER"  # pid of the master that prepared the directory
_CREATED = "MLSITE_PROMETHEUS_DIR_CREATED"  # set when that master created it, so on_exit removes it
if os.environ.get(_OWNER) != str(os.getpid()):
    _metrics_dir = env_str("PROMETHEUS_MULTIPROC_DIR")
    if _metrics_dir:
        os.makedirs(_metrics_dir, exist_ok=True)
        for _stale in Path(_metrics_dir).glob("*.db"):
            _stale.unlink()
        os.environ.pop(_CREATED, None)
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.environ[_CREATED] = tempfile.mkdtemp(prefix="mlsite-prometheus-")
    os.environ[_OWNER] = str(os.getpid())

if preload_app:
    # Python's advice for sharing memory across fork: no collections while the app loads (they leave freed holes
    # in pages the workers would then copy), gc.freeze() right before fork (collections in the workers then never
    # write to the inherited objects' headers), collections back on afterwards.
    gc.disable()


def when_ready(server) -> None:
    if preload_app:
        # Django imports the URLconf, and with it every view module, DRF and drf-spectacular, on the first request.
        # Importing it in the master shares those modules too and spares each new worker's first request the cost.
        from importlib import import_module

        from django.conf import settings

        import_module(settings.ROOT_URLCONF)


def pre_fork(server, worker) -> None:
    if not preload_app:
        return  # the master never imported Django: nothing to share, nothing to close
    # A connection opened by the master would be shared by every worker: interleaved queries on one socket.
    from django.db import connections

    connections.close_all()
    gc.freeze()
    gc.enable()


def child_exit(server, worker) -> None:
    # Drops the dead worker's live-gauge files so /metrics stops reporting it; its counters stay summed.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    created = os.environ.get(_CREATED)
    if created and os.environ.get(_OWNER) == str(os.getpid()):
        shutil.rmtree(created, ignore_errors=True)
