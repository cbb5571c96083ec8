"""Debian's nginx running the project's own proxy config (docker/nginx/mlsite.conf.template) for a test.

The template is rendered the way the official nginx image renders it at start (envsubst of the variables that are
set: MLSITE_*), then included in a minimal main config whose paths all live in the test's directory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy.conftest import ROOT

TEMPLATE = ROOT / "docker" / "nginx" / "mlsite.conf.template"

MAIN = """\
daemon off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log info;
{user}
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {work}/access.log;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    include {work}/conf.d/*.conf;
}}
"""


def render(template: str, variables: dict[str, str]) -> str:
    """envsubst restricted to ``variables``, as the nginx image does: ${NAME} of a set variable is replaced, every
    other $word (nginx's own variables) is left alone."""
    return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), m.group(0)), template)


@dataclass
class Nginx:
    port: int
    process: subprocess.Popen
    work: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_nginx(*, upstream: str, port: int, static_root: Path, work: Path) -> Nginx:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx not found: run `make system-deps` (installs Debian's nginx)")
    (work / "conf.d").mkdir(parents=True)
    rendered = render(TEMPLATE.read_text(), {
        "MLSITE_UPSTREAM": upstream, "MLSITE_LISTEN": f"127.0.0.1:{port}", "MLSITE_STATIC_ROOT": str(static_root),
        "MLSITE_FORWARDED_PROTO": "$scheme",
    })
    assert not re.search(r"\$\{MLSITE_\w+\}", rendered), "a template variable was left unset"
    (work / "conf.d" / "mlsite.conf").write_text(rendered)
    # As root, nginx would switch its workers to "nobody", who cannot read the test's private directories.
    user = "user root;" if os.geteuid() == 0 else ""
    (work / "nginx.conf").write_text(MAIN.format(work=work, user=user))
    check = subprocess.run([binary, "-t", "-c", str(work / "nginx.conf"), "-p", str(work)], capture_output=True,
                           text=True, timeout=30)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([binary, "-c", str(work / "nginx.conf"), "-p", str(work)],
                               stdout=subprocess.DEVNULL, stderr=(work / "stderr.log").open("w"))
    server = Nginx(port=port, process=process, work=work)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(work / 'error.log').read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("nginx did not start listening")
