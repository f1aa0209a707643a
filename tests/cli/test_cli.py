"""The ``hazardflow`` command as a user runs it: a real process on a fresh SQLite file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).with_name("hazardflow")


@pytest.fixture
def run(tmp_path):
    """hazardflow on an empty store (a new file); commands that read one refuse a missing
    file (test_a_store_that_is_not_there_is_not_made_by_reading_it)."""
    sqlite3.connect(tmp_path / "cli.db").close()
    env = {**os.environ, "HAZARDFLOW_SQLITE_PATH": str(tmp_path / "cli.db")}
    env.pop("HAZARDFLOW_DATABASE_URL", None)

    def _run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=120)
        if ok:
            assert done.returncode == 0, done.stderr
        return done

    return _run


def token(run, name: str, role: str, unit: str) -> str:
    return run("users", "add", name, "--role", role, "--unit", unit).stdout.strip()


def test_report_act_and_show_a_case(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    so = token(run, "chen", "safety_officer", "YS-C01")
    out = run("case", "report", "--token", gw, "--place-id", "P1", "--place-name", "出租屋",
              "--place-kind", "rental_house", "--grid", "YS-C01-G01", "--community", "YS-C01",
              "--category", "flying_wire_charging", "--description", "飞线充电").stdout
    number = out.split()[0]
    assert number.startswith("HZ-") and "found v1" in out
    assert "notified v2" in run("case", "act", number, "notify", "--token", so,
                                "--party-name", "陈", "--party-role", "landlord").stdout
    run("case", "act", number, "refuse", "--token", so, "--reason", "拒不整改")
    shown = run("case", "show", number).stdout
    assert "refuse -> escalated" in shown and "by chen (safety_officer, YS-C01)" in shown
    assert "拒不整改" in shown and "department=fire" in shown
    assert "出租屋 (rental_house) " in shown  # reported without --address: no dangling comma
    # the due days the events set for the next person, with the rules that set them
    assert "notice_due=" in shown and "notice.within" in shown
    assert "accept_due=" in shown and "accept_within" in shown
    as_json = json.loads(run("case", "show", number, "--json").stdout)
    # what the table shows, as fields (the description, party and enforcement were missing)
    assert (as_json["description"], as_json["responsible_party"], as_json["enforcement"],
            as_json["rework_count"], as_json["department"]) == (
        "飞线充电", {"name": "陈", "role": "landlord", "contact": ""}, [], 0, "fire")
    history = as_json["history"]
    assert [h["trigger"] for h in history] == ["report", "notify", "refuse"]
    assert history[0]["actor"] == {"id": "li", "role": "grid_worker", "unit": "YS-C01-G01"}


@pytest.mark.parametrize(("args", "message"), [
    (("case", "show", "HZ-2026-000404"), "no hazard case HZ-2026-000404"),
    (("case", "act", "HZ-2026-000001", "notify", "--token", "nope"), "unknown token"),
    (("users", "add", "x", "--role", "grid_worker", "--unit", " "), "unit must not be empty"),
])
def test_a_mistake_prints_one_line_and_exits_2(run, args, message):
    done = run(*args, ok=False)
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {message}"
    assert "Traceback" not in done.stderr + done.stdout


def test_a_store_that_is_not_there_is_not_made_by_reading_it(run, tmp_path):
    # A mistyped HAZARDFLOW_SQLITE_PATH made an empty store (and its folders) there: reports
    # answered "no hazards" (exit 0) and `audit verify` "OK: 0 events" for a store that is
    # somewhere else; cron's escalate-due found nothing due.
    def at(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HAZARDFLOW_SQLITE_PATH": str(path)}
        env.pop("HAZARDFLOW_DATABASE_URL", None)
        return subprocess.run([str(BIN), *args], capture_output=True, text=True, cwd=tmp_path,
                              env=env, timeout=120)

    typo = tmp_path / "typo" / "hf.db"
    for args in (("report", "ledger"), ("audit", "verify"), ("escalate-due",),
                 ("projections", "status"), ("case", "show", "HZ-2026-000001")):
        done = at(typo, *args)
        assert (done.returncode, done.stderr.strip()) == (1, (
            f"error: cannot reach the store: no store at {typo} (HAZARDFLOW_SQLITE_PATH); "
            "`hazardflow users add` or `hazardflow demo` makes one")), args
    assert not (tmp_path / "typo").exists()
    new = tmp_path / "new" / "hf.db"  # the first account makes a new store
    assert at(new, "users", "add", "li", "--role", "admin", "--unit", "YS").returncode == 0
    assert at(new, "report", "ledger").returncode == 0


def test_a_sqlite_path_on_a_file_that_is_not_a_database_is_named_in_one_line(run, tmp_path):
    # HAZARDFLOW_SQLITE_PATH pointing at some other file printed sqlite3's traceback.
    (tmp_path / "cli.db").write_text("not a database\n")
    done = run("case", "show", "HZ-2026-000001", ok=False)
    assert done.returncode == 1
    assert done.stderr.strip() == "error: cannot reach the store: file is not a database"


def test_an_illegal_trigger_and_a_missing_option_are_named(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    run("case", "report", "--token", gw, "--place-id", "P1", "--place-name", "店",
        "--place-kind", "small_venue", "--grid", "YS-C01-G01", "--community", "YS-C01",
        "--category", "gas_safety", "--description", "燃气")
    done = run("case", "act", "HZ-2026-000001", "notify", "--token", gw, "--party-name", "王",
               "--party-role", "tenant", ok=False)
    assert done.returncode == 2 and "only safety_officer may notify" in done.stderr
    so = token(run, "chen", "safety_officer", "YS-C01")
    done = run("case", "act", "HZ-2026-000001", "dismiss", "--token", so, ok=False)
    assert done.returncode == 2 and "dismiss needs --closing-reason, --reason" in done.stderr


def test_demo_builds_a_store_and_shows_a_case(run, tmp_path):
    out = run("demo", "--cases", "60", "--seed", "7").stdout
    assert "60 cases" in out and "history (times in China local time)" in out
    assert (tmp_path / "cli.db").exists()
    # the measures fit the hazard (every case's said flying wires were removed)
    ledger = json.loads(run("report", "ledger", "--format", "json").stdout)["rows"]
    measures = {(row["category"], row["measures"]) for row in ledger if row["measures"]}
    assert ("flying_wire_charging", "已拆除飞线并引导至集中充电点") in measures
    assert {c for c, m in measures if m == "已拆除飞线并引导至集中充电点"} == {
        "flying_wire_charging"}
    again = run("demo", "--cases", "60", ok=False)
    assert again.returncode == 2 and "already holds" in again.stderr


@pytest.mark.parametrize("url", [
    "postgresql://postgres:s3cr3t@[::1/test",
    "postgres://postgres:s3cr3t@127.0.0.1:5432/test?foo=bar",
])
def test_a_malformed_database_url_is_named_in_one_line_without_its_password(tmp_path, url):
    # psycopg's parse error, quoting the whole URL, password and all, came out as a
    # traceback from the first command that described or opened the store.
    env = {**os.environ, "HAZARDFLOW_DATABASE_URL": url}
    for args in (("audit", "digest"), ("serve", "--port", "1")):
        done = subprocess.run([str(BIN), *args], capture_output=True, text=True, env=env,
                              cwd=tmp_path, timeout=60, check=False)
        assert done.returncode == 2, done.stderr
        assert "s3cr3t" not in done.stdout + done.stderr
        line, = done.stderr.strip().splitlines()
        assert line.startswith("error: database_url: Value error, HAZARDFLOW_DATABASE_URL "
                               "is not a PostgreSQL URL: ")


def test_demo_tokens_are_checked_before_the_work_and_kept_private(run, tmp_path):
    # An unwritable --tokens path failed after all 155 accounts were created: their
    # tokens lost, the store no longer empty, so the demo could not be run again on it.
    done = run("demo", "--cases", "1", "--tokens", str(tmp_path / "no" / "t.json"), ok=False)
    assert done.returncode == 2 and "t.json" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    tokens = tmp_path / "t.json"
    run("demo", "--cases", "1", "--tokens", str(tokens))
    # Every demo person's bearer token (admins too): readable by the owner only.
    assert tokens.stat().st_mode & 0o777 == 0o600
    assert json.loads(tokens.read_text())


@pytest.mark.parametrize(("name", "unit"), [
    ("li\nchen", "YS-C01-G01"), ("li\tchen", "YS-C01-G01"), ("li\u2028chen", "YS-C01-G01"),
    ("li", "YS-C01-G01\nYS-C02-G01"), ("li", "YS\tX"),
])
def test_an_account_name_or_unit_is_one_line(run, name, unit):
    # Both were accepted with a line break or tab: the name is the actor id on every event
    # and shows in every history, where a line break could pass for another entry.
    done = run("users", "add", name, "--role", "grid_worker" if "-" in unit else "admin",
               "--unit", unit, ok=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "must be one line, without tabs" in done.stderr


@pytest.mark.parametrize("schema", ["hf test-schema", 'hf"q', "hf_" + "x" * 61])
def test_a_schema_name_postgresql_would_not_take_plainly_is_refused_first(tmp_path, schema):
    # A space, a dash or a quote: the schema was created, then eventsourcing's unquoted
    # type name failed in a traceback; over 63 bytes PostgreSQL cuts it silently (two
    # long names could be one schema).
    import psycopg

    from tests.conftest import PG_URL, _require_postgres

    _require_postgres()
    env = {**os.environ, "HAZARDFLOW_DATABASE_URL": PG_URL,
           "HAZARDFLOW_DATABASE_SCHEMA": schema}
    try:
        done = subprocess.run([str(BIN), "audit", "verify"], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=60, check=False)
        assert done.returncode == 2, done.stderr
        line, = done.stderr.strip().splitlines()
        assert line.startswith("error: database_schema: Value error, ")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            created = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname = %s",
                                   (schema[:63],)).fetchall()
            conn.execute(psycopg.sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                psycopg.sql.Identifier(schema[:63])))
    assert not created


def test_no_account_takes_the_system_actors_name(run):
    # 'system' is the actor id of the deadline tick (escalate-due); an account of that
    # name signed its own actions with it, indistinguishable by id from the automatic ones.
    done = run("users", "add", "system", "--role", "street_supervisor", "--unit", "YS",
               ok=False)
    assert done.returncode == 2 and done.stdout == ""
    assert "'system' is the automatic actor's name" in done.stderr
    # nor is the tick's role offered to an account
    role = run("users", "add", "wang", "--role", "system", "--unit", "YS", ok=False)
    assert role.returncode == 2 and "'system' is not one of" in role.stderr
    assert "system" not in run("users", "add", "--help").stdout.split("--unit")[0].split(
        "--role")[1]
