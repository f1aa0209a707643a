"""``hazardflow serve`` starts a real server that answers over loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(url: str, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@dataclass
class Served:
    """A ``hazardflow serve`` process on a fresh SQLite file, and a grid worker's token."""

    base: str
    token: str
    process: subprocess.Popen[bytes]


@contextmanager
def serving(tmp_path: Path, *options: str) -> Iterator[Served]:
    env = {**os.environ, "HAZARDFLOW_SQLITE_PATH": str(tmp_path / "served.db")}
    env.pop("HAZARDFLOW_DATABASE_URL", None)
    cli = [sys.executable, "-m", "api.cli.main"]
    token = subprocess.run([*cli, "users", "add", "gw", "--role", "grid_worker", "--unit",
                            "YS-C01-G01"], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    port = _port()
    process = subprocess.Popen([*cli, "serve", "--port", str(port), *options], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    served = Served(f"http://127.0.0.1:{port}", token, process)
    try:
        for _ in range(100):
            try:
                if _call(f"{served.base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        yield served
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def test_serve_answers_commands_on_the_configured_store(tmp_path: Path) -> None:
    with serving(tmp_path) as served:
        status, body = _call(f"{served.base}/api/cases", served.token, {
            "place": {"id": "P-1", "name": "出租屋", "kind": "rental_house",
                      "grid": "YS-C01-G01", "community": "YS-C01"},
            "category": "gas_safety", "description": "燃气软管老化"})
        assert (status, body["state"], body["version"]) == (201, "found", 1)
        assert _call(f"{served.base}/api/cases/{body['number']}", "wrong")[0] == 401


def test_the_access_log_logs_requests_without_their_api_keys(tmp_path: Path) -> None:
    """``--access-log`` logged nothing (uvicorn's log level was set to warning, above its
    access lines); logged, an Open311 query's api_key, a bearer token, would be kept in the
    log in clear."""
    with serving(tmp_path, "--access-log") as served:
        for name in ("api_key", "api%5Fkey"):
            assert _call(f"{served.base}/open311/v2/requests.json?{name}={served.token}"
                         "&status=open") == (200, [])
    out, err = served.process.communicate(timeout=20)
    logged = out.decode() + err.decode()
    assert logged.count("GET /open311/v2/requests.json?") == 2, logged
    assert "GET /healthz" in logged and "&status=open" in logged
    assert served.token not in logged
