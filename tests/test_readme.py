"""The curl examples in README.md work as pasted: each one is run, in order, against a live server."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
DOCUMENTED_BASE = "http://127.0.0.1:8000"


def curl_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.S):
        command = ""
        for line in block.splitlines():
            command = f"{command}\n{line}" if command else line
            if command.rstrip().endswith("\\") or command.count("'") % 2:
                continue  # a continued line, or inside a quoted JSON body spanning lines
            if command.lstrip().startswith("curl "):
                commands.append(command)
            command = ""
    return commands


def test_the_readme_has_curl_examples_for_every_endpoint():
    text = "\n".join(curl_commands())
    for path in ("/api/models/iris/predict", "/api/models/diamonds/predict", "/api/models/", "/api/predictions/",
                 "/feedback", "/predict ", "/api/predict?", "/v2/models/iris/infer", "/v2/models/diamonds/infer",
                 "/mlflow/iris/invocations", "/mlflow/diamonds/invocations"):
        assert path in text, f"README lacks a curl example for {path}"


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_every_curl_example_works_against_a_live_server(live_server, staff_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_user).key
    for command in curl_commands():
        runnable = command.replace(DOCUMENTED_BASE, live_server.url) + " -w '\\n%{http_code}'"
        result = subprocess.run(["bash", "-c", runnable], capture_output=True, text=True, timeout=30,
                                env={"TOKEN": token, "PATH": "/usr/bin:/bin"})
        body, _, status = result.stdout.rpartition("\n")
        expected = {"400"} if '"wide"' in command else {"200", "201"}
        assert status in expected, f"{command}\n→ {status} {body[:500]}"
