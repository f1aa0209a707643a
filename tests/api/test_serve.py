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


def test_serve_answers_commands_on_the_configured_store(tmp_path: Path) -> None:
    env = {**os.environ, "HAZARDFLOW_SQLITE_PATH": str(tmp_path / "served.db")}
    env.pop("HAZARDFLOW_DATABASE_URL", None)
    cli = [sys.executable, "-m", "api.cli.main"]
    token = subprocess.run([*cli, "users", "add", "gw", "--role", "grid_worker", "--unit",
                            "YS-C01-G01"], cwd=ROOT, env=env, capture_output=True, text=True,
                           check=True).stdout.strip()
    port = _port()
    server = subprocess.Popen([*cli, "serve", "--port", str(port)], cwd=ROOT, env=env,
                              stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if _call(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.1)
        status, body = _call(f"{base}/api/cases", token, {
            "place": {"id": "P-1", "name": "出租屋", "kind": "rental_house",
                      "grid": "YS-C01-G01", "community": "YS-C01"},
            "category": "gas_safety", "description": "燃气软管老化"})
        assert (status, body["state"], body["version"]) == (201, "found", 1)
        assert _call(f"{base}/api/cases/{body['number']}", "wrong")[0] == 401
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
