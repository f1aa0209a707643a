"""``hazardflow case attach`` and ``hazardflow audit`` as a user runs them (real processes)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.audit.conftest import JPEG

BIN = Path(sys.executable).with_name("hazardflow")


def test_attach_verify_tamper_and_digest(tmp_path):
    env = {**os.environ, "HAZARDFLOW_SQLITE_PATH": str(tmp_path / "cli.db"),
           "HAZARDFLOW_BLOB_DIR": str(tmp_path / "evidence")}
    env.pop("HAZARDFLOW_DATABASE_URL", None)

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        assert done.returncode == code, (done.stdout, done.stderr)
        return done

    token = run("users", "add", "li", "--role", "grid_worker", "--unit", "YS-C01-G01").stdout
    number = run("case", "report", "--token", token.strip(), "--place-id", "P1",
                 "--place-name", "出租屋", "--place-kind", "rental_house", "--grid",
                 "YS-C01-G01", "--community", "YS-C01", "--category",
                 "flying_wire_charging", "--description", "飞线充电").stdout.split()[0]
    (tmp_path / "wire.jpg").write_bytes(JPEG)
    (tmp_path / "note.txt").write_text("not a photo")
    attached = run("case", "attach", number, "wire.jpg", "--token", token.strip()).stdout
    assert f"{number} found v2" in attached and "wire.jpg  image/jpeg" in attached
    refused = run("case", "attach", number, "note.txt", "--token", token.strip(), code=2)
    assert "error: note.txt: not a recognised file type" in refused.stderr

    assert run("audit", "verify").stdout.startswith("OK: ")
    today = run("audit", "digest", "--date", "2099-01-01", code=2)
    assert "has not ended yet" in today.stderr
    last_day = run("audit", "digest", "--date", "9999-12-31", code=2)  # no UTC end: traceback
    assert "year must be between 2000 and 2100" in last_day.stderr, last_day.stderr
    line = run("audit", "digest", "--date", "2020-01-01").stdout.strip()
    assert line == "2020-01-01 0 " + "0" * 64
    (tmp_path / "digests.txt").write_text(f"# published\n{line}\n")
    assert run("audit", "verify", "--digests", "digests.txt").stdout.startswith("OK: ")

    with sqlite3.connect(tmp_path / "cli.db") as db:
        (row, state), = db.execute("SELECT rowid, state FROM stored_events "
                                   "WHERE topic = 'domain.events:Reported'").fetchall()
        assert b'"P1"' in state
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                   (state.replace(b'"P1"', b'"P2"'), row))
    failed = run("audit", "verify", code=1).stdout
    assert failed.startswith("FAILED: ")
    assert f"first edited payload: case {number}" in failed
    assert f"notification #{row}" in failed
