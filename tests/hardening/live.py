"""A real gunicorn serving mlsite for the fault tests: a subprocess on a free loopback port, the test's database."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    s = settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@dataclass
class LiveServer:
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()] if children.exists() else []

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_gunicorn(*, db_settings: dict, model_dir: Path, tmp_path: Path, workers: int = 2,
                   extra_env: dict[str, str] | None = None, short_timeouts: bool = True) -> LiveServer:
    """gunicorn with gunicorn.conf.py; ``short_timeouts`` (for tests that kill things) overrides its graceful and
    worker timeouts with 10 s and 30 s."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
        "DATABASE_URL": database_url(db_settings),
        "MODEL_DIR": str(model_dir),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "live-test-" + "k" * 50,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "PREDICT_THROTTLE_RATE": "off",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
        **(extra_env or {}),
    }
    (tmp_path / "prometheus").mkdir(exist_ok=True)
    log_path = tmp_path / f"gunicorn-{port}.log"
    config = ["-c", str(ROOT / "gunicorn.conf.py")] if (ROOT / "gunicorn.conf.py").exists() else ["--preload"]
    command = [sys.executable, "-m", "gunicorn", *config, "mlsite.wsgi:application", "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers)]
    if short_timeouts:
        command += ["--graceful-timeout", "10", "--timeout", "30"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT)
    server = LiveServer(port=port, process=process, log_path=log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{server.log()}")
        try:
            status, _, _ = request(server, "GET", "/healthz", timeout=1)
            if status == 200 and len(server.workers()) == workers:
                return server
        except OSError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"gunicorn did not become healthy:\n{server.log()}")


def request(server: LiveServer, method: str, path: str, body: object = None, *, request_id: str | None = None,
            timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    headers = {"Content-Type": "application/json"}
    if request_id:
        headers["X-Request-ID"] = request_id
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


@dataclass
class Outcome:
    request_id: str
    status: int | None  # None: no HTTP answer at all (connection dropped, timeout)
    attempts: int = 1
    body: bytes = b""
    history: list[int | None] = field(default_factory=list)
    finished: float = 0.0  # time.monotonic() when the last attempt ended


def predict_with_retry(server: LiveServer, path: str, body: object, *, retries: int = 3) -> Outcome:
    """One logical prediction: a fresh X-Request-ID, retried with the same id while no HTTP answer comes back."""
    outcome = Outcome(request_id=str(uuid.uuid4()), status=None, attempts=0)
    for _ in range(retries + 1):
        outcome.attempts += 1
        try:
            status, _, content = request(server, "POST", path, body, request_id=outcome.request_id)
        except (OSError, http.client.HTTPException):
            outcome.history.append(None)
            time.sleep(0.05)
            continue
        outcome.history.append(status)
        outcome.status, outcome.body = status, content
        if status != 503:
            break
        time.sleep(0.1)
    outcome.finished = time.monotonic()
    return outcome
