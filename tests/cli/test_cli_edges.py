"""The command line at its edges: jurisdiction, input the HTTP API refuses, filters, messages.

Each test runs ``hazardflow``'s entry point (``api.cli.main.run``) in this process on a
fresh SQLite file: the same arguments, exit code and output as a real process, without a
second of start-up per call (``test_cli.py`` runs real processes).
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import datetime
from types import SimpleNamespace

import openpyxl
import pytest

from api.cli import context
from tests import factories as f
from tests.cli.test_cli import token
from tests.projections.helpers import run_hazardflow


@pytest.fixture
def run(tmp_path, monkeypatch, capsys) -> Iterator:  # type: ignore[no-untyped-def]
    sqlite3.connect(tmp_path / "cli.db").close()  # an empty store, as in tests/cli/test_cli
    monkeypatch.setenv("HAZARDFLOW_SQLITE_PATH", str(tmp_path / "cli.db"))
    monkeypatch.delenv("HAZARDFLOW_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    _forget_the_store()

    def _run(*args: str | bytes, ok: bool = True) -> subprocess.CompletedProcess[str]:
        # bytes as a shell passes them: undecodable ones become surrogates, as in sys.argv
        argv = [os.fsdecode(a) for a in args]
        capsys.readouterr()
        code, out, err = run_hazardflow(monkeypatch, capsys, *argv)
        if ok:
            assert code == 0, err
        return subprocess.CompletedProcess(argv, code, out, err)

    yield _run
    _forget_the_store()


def _forget_the_store() -> None:
    """The CLI keeps its settings and service for the process: each test has its own."""
    if context.service.cache_info().currsize:
        context.service().shutdown()
    context.service.cache_clear()
    context.settings.cache_clear()

PLACE = ("--place-name", "出租屋", "--place-kind", "rental_house",
         "--category", "flying_wire_charging", "--description", "飞线充电")


def report(run, tok: str, place_id: str = "P1", grid: str = "YS-C01-G01",
           community: str = "YS-C01", *extra: str, ok: bool = True):
    return run("case", "report", "--token", tok, "--place-id", place_id, "--grid", grid,
               "--community", community, *PLACE, *extra, ok=ok)


def refused(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 2, done.stdout
    assert done.stderr.strip() == f"error: {message}"
    assert "Traceback" not in done.stderr + done.stdout


def test_a_reporter_reports_only_in_their_own_grid(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    refused(report(run, gw, "P1", "YS-C02-G01", "YS-C02", ok=False),
            "li (grid_worker, YS-C01-G01) may not report in grid YS-C02-G01")
    refused(report(run, gw, "P1", "YS-C01-G01", "YS-C09", ok=False),
            "grid 'YS-C01-G01' is not a grid of community 'YS-C09' (grid ids are the "
            "community id, a dash and the grid's own code)")
    inspector = token(run, "wu", "inspector", "YS-C01")
    assert "only grid_worker, property_staff, safety_officer, volunteer may report" in report(
        run, inspector, ok=False).stderr
    assert "HZ-2026-000001 found v1" in report(run, gw).stdout


def test_a_place_id_used_in_another_grid_is_refused_without_describing_the_place(run):
    report(run, token(run, "li", "grid_worker", "YS-C01-G01"))  # HZ-2026-000001 at P1
    other = token(run, "qian", "grid_worker", "YS-C01-G02")
    for extra in ((), ("--confirm-new",)):
        refused(report(run, other, "P1", "YS-C01-G02", "YS-C01", *extra, ok=False),
                "place P1 is already used by a place outside your area: report it with the "
                "place's own grid, community and kind, or give this place its own id")
    assert "HZ-2026-000002 found v1" in report(run, other, "P2", "YS-C01-G02").stdout


def test_a_case_outside_the_callers_territory_is_answered_as_unknown(run, tmp_path):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    report(run, gw)
    other_officer = token(run, "zhao", "safety_officer", "YS-C02")
    other_worker = token(run, "qian", "grid_worker", "YS-C02-G01")
    refused(run("case", "act", "HZ-2026-000001", "notify", "--token", other_officer,
                "--party-name", "王", "--party-role", "landlord", ok=False),
            "no hazard case HZ-2026-000001")
    refused(run("case", "act", "HZ-2026-000001", "comment", "--token", other_worker,
                "--text", "看过了", ok=False), "no hazard case HZ-2026-000001")
    photo = tmp_path / "p.pdf"
    photo.write_bytes(b"%PDF-1.4\n%%EOF\n")
    refused(run("case", "attach", "HZ-2026-000001", str(photo), "--token", other_worker,
                ok=False), "no hazard case HZ-2026-000001")
    assert len(run("case", "show", "HZ-2026-000001", "--json").stdout.split('"trigger"')) == 2
    so = token(run, "chen", "safety_officer", "YS-C01")
    assert "notified v2" in run("case", "act", "HZ-2026-000001", "notify", "--token", so,
                                "--party-name", "王", "--party-role", "landlord").stdout


def test_a_duplicate_named_outside_the_callers_territory_is_answered_as_unknown(run):
    """`case act ... dismiss --duplicate-of` naming another community's case closed the
    officer's case against it (or named its state), as over HTTP: now "no hazard case"."""
    report(run, token(run, "li", "grid_worker", "YS-C01-G01"))  # HZ-2026-000001
    report(run, token(run, "qian", "grid_worker", "YS-C02-G01"), "P2", "YS-C02-G01",
           "YS-C02")  # HZ-2026-000002, outside chen's community
    so = token(run, "chen", "safety_officer", "YS-C01")
    refused(run("case", "act", "HZ-2026-000001", "dismiss", "--token", so, "--closing-reason",
                "duplicate", "--reason", "重复", "--duplicate-of", "HZ-2026-000002", ok=False),
            "no hazard case HZ-2026-000002")
    assert "found" in run("case", "show", "HZ-2026-000001").stdout.splitlines()[0]


@pytest.mark.parametrize(("extra", "message"), [
    (("--place-id", "P 1 !"), ("place.id: String should match pattern "
                               "'^[A-Za-z0-9][A-Za-z0-9_.:-]*$'")),
    (("--place-id", "P1", "--address", "路" * 301),
     "place.address: String should have at most 300 characters"),
])
def test_a_report_is_refused_the_input_the_http_api_refuses(run, extra, message):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    done = run("case", "report", "--token", gw, "--grid", "YS-C01-G01", "--community",
               "YS-C01", *PLACE, *extra, ok=False)
    refused(done, message)


def test_a_replayed_report_says_so(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    first = report(run, gw, "P1", "YS-C01-G01", "YS-C01", "--command-id", "c-1").stdout
    again = report(run, gw, "P1", "YS-C01-G01", "YS-C01", "--command-id", "c-1").stdout
    assert again.strip() == first.strip() + " (replayed: nothing appended)"


def test_text_that_is_not_utf8_is_named_not_a_codec_error(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    report(run, gw)
    so = token(run, "chen", "safety_officer", "YS-C01")
    # bytes as a shell passes them from a terminal in another encoding
    done = run("case", "act", "HZ-2026-000001", "comment", "--token", so, "--text",
               b"bad \xff\xfe bytes", ok=False)  # type: ignore[arg-type]
    refused(done, "argument 'bad \\xff\\xfe bytes' is not UTF-8 text; hazardflow records "
                  "text as UTF-8 (check the terminal's encoding)")
    assert run("case", "show", "HZ-2026-000001", "--json").stdout.count('"trigger"') == 1


@pytest.mark.parametrize(("args", "message"), [
    (("case", "show", "HZ-2026-000001", "--version", "9"),
     "no hazard case HZ-2026-000001 at version 9 (its versions are 1 to 1)"),
    (("case", "show", "HZ-2026-000001", "--version", "0"),
     "no hazard case HZ-2026-000001 at version 0 (its versions are 1 to 1)"),
    (("case", "act", "HZ-2026-000001", "attach_evidence"),
     "attach_evidence is not run with `case act`: use `hazardflow case attach CASE FILE...`"),
    (("report", "stats", "--from", "2026-1"), "'2026-1' is not a month like 2026-03"),
    (("report", "stats", "--to", "2026-13"), "'2026-13' is not a month like 2026-03"),
    (("report", "ledger", "--state", "open"),
     ("unknown state 'open'; expected one of: found, notified, rectifying.in_progress, "
      "rectifying.awaiting_verification, escalated, closed, rectifying")),
])
def test_a_mistake_in_a_show_act_or_report_is_named(run, args, message):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    report(run, gw)
    if args[1] == "act":
        args = (*args, "--token", gw)
    refused(run(*args, ok=False), message)


@pytest.mark.parametrize("args", [
    ("report", "ledger", "--category", "fire"),
    ("report", "ledger", "--severity", "huge"),
    ("report", "stats", "--category", "fire"),
    ("report", "escalations", "--department", "police"),
])
def test_a_report_filter_outside_its_choices_is_refused_not_an_empty_report(run, args):
    done = run(*args, ok=False)
    assert done.returncode == 2 and "Invalid value for" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_lifecycle_table_shows_every_role_in_full_when_piped(run):
    out = run("lifecycle").stdout
    assert "…" not in out and "street_supervisor" in out


def test_demo_on_a_full_postgres_schema_names_the_schema_setting(tmp_path):
    import os
    import uuid

    import psycopg
    from psycopg import sql

    from tests.cli.test_cli import BIN
    from tests.conftest import PG_URL, _require_postgres

    _require_postgres()
    schema = f"hf_test_{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "HAZARDFLOW_DATABASE_URL": PG_URL,
           "HAZARDFLOW_DATABASE_SCHEMA": schema}
    try:
        for expected in (0, 2):
            done = subprocess.run([str(BIN), "demo", "--cases", "1"], capture_output=True,
                                  text=True, env=env, cwd=tmp_path, timeout=120, check=False)
            assert done.returncode == expected, done.stderr
        assert done.stderr.strip().endswith(
            "the demo needs an empty store (use another HAZARDFLOW_DATABASE_SCHEMA)")
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(schema)))


def test_a_time_outside_the_years_served_is_refused_not_a_traceback(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    report(run, gw)
    # No UTC instant: formatting it on the event raised OverflowError (a traceback).
    refused(run("case", "act", "HZ-2026-000001", "comment", "--text", "看过", "--token", gw,
                "--occurred-at", "0001-01-01T00:00:00+14:00", ok=False),
            "0001-01-01T00:00:00+14:00: year must be between 2000 and 2100")
    refused(run("report", "ledger", "--as-of", "1999-12-31", ok=False),
            "1999-12-31: year must be between 2000 and 2100")


def test_report_out_is_checked_before_the_work_and_written_whole(run, tmp_path):
    missing = tmp_path / "no-such-dir" / "ledger.csv"
    refused(run("report", "ledger", "--format", "csv", "--out", str(missing), ok=False),
            f"--out {missing}: there is no directory {missing.parent}")
    refused(run("report", "ledger", "--format", "csv", "--out", str(tmp_path), ok=False),
            f"--out {tmp_path} is a directory; name a file")
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "ledger.csv"
    out.write_text("an older ledger")
    run("report", "ledger", "--format", "csv", "--lang", "en", "--out", str(out))
    assert out.read_text(encoding="utf-8-sig").startswith("Case number,Found,Place,")
    assert [p.name for p in folder.iterdir()] == ["ledger.csv"]  # no scratch file left


def test_an_out_file_named_for_another_format_is_refused_before_the_work(run, tmp_path):
    """`report ledger --out ledger.xlsx` without --format wrote the terminal table, text,
    into ledger.xlsx, a file Excel refuses to open; --format csv --out x.xlsx wrote CSV."""
    for args, named, fmt in ((("--out", "ledger.xlsx"), "xlsx", "table"),
                             (("--format", "csv", "--out", "ledger.xlsx"), "xlsx", "csv"),
                             (("--format", "xlsx", "--out", "ledger.csv"), "csv", "xlsx")):
        out = tmp_path / args[-1]
        refused(run("report", "ledger", *args[:-1], str(out), ok=False),
                f"--out {out} is named .{named} but the format is {fmt}: "
                f"add --format {named}, or give the file another name")
        assert not out.exists()
    refused(run("users", "list", "--out", str(tmp_path / "users.csv"), ok=False),
            f"--out {tmp_path / 'users.csv'} is named .csv but the format is table: "
            "add --format csv, or give the file another name")
    run("report", "ledger", "--format", "xlsx", "--out", str(tmp_path / "LEDGER.XLSX"))
    run("report", "ledger", "--out", str(tmp_path / "ledger.txt"))  # a table, as asked


def test_act_options_get_the_http_apis_checks(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    report(run, gw)
    so = token(run, "chen", "safety_officer", "YS-C01")
    refused(run("case", "act", "HZ-2026-000001", "notify", "--token", so, "--party-name", "王",
                "--party-role", "landlord", "--party-contact", "1" * 101, ok=False),
            "party.contact: String should have at most 100 characters")
    refused(run("case", "act", "HZ-2026-000001", "miss_deadline", "--token", so, ok=False),
            "unknown trigger 'miss_deadline'; expected one of: notify, start_rectification, "
            "submit_rectification, verify, refuse, escalate, accept_escalation, "
            "record_enforcement, order_rectification, close, dismiss, reopen, "
            "extend_deadline, comment")
    assert "notified v2" in run("case", "act", "HZ-2026-000001", "notify", "--token", so,
                                "--party-name", "王", "--party-role", "landlord",
                                "--party-contact", "1" * 100).stdout


def test_a_case_shows_its_text_as_typed_and_a_recorded_escape_as_a_symbol(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    refused(run("case", "report", "--token", gw, "--place-id", "P1", "--grid", "YS-C01-G01",
                "--community", "YS-C01", *PLACE[:-1], "楼道\x1b[2J", ok=False),
            "description: Value error, text contains U+001B, a control character: of those, "
            "only tab and line breaks are allowed")
    run("case", "report", "--token", gw, "--place-id", "P1", "--grid", "YS-C01-G01",
        "--community", "YS-C01", *PLACE[:-1], "[/bold] 楼道 [red]x[/red]")
    # Text recorded before control characters were refused (at the edge, then by the
    # service): it must still show, and must not act on the terminal.
    f.comment_as_recorded_before(context.service(), "HZ-2026-000001", "清屏\x1b[2J响铃\x07")
    shown = run("case", "show", "HZ-2026-000001").stdout
    assert "[/bold] 楼道 [red]x[/red]" in shown
    assert "清屏␛[2J响铃␇" in shown and "\x1b" not in shown


def test_reopening_while_the_hazard_is_open_as_another_case_is_refused_then_confirmed(run):
    gw = token(run, "li", "grid_worker", "YS-C01-G01")
    so = token(run, "chen", "safety_officer", "YS-C01")
    report(run, gw)  # HZ-2026-000001 at P1
    run("case", "act", "HZ-2026-000001", "dismiss", "--token", so, "--closing-reason",
        "unfounded", "--reason", "误报")
    report(run, gw)  # HZ-2026-000002, the same hazard found again
    refused(run("case", "act", "HZ-2026-000001", "reopen", "--token", gw, "--reason", "复发",
                ok=False),
            "probable duplicate of open case HZ-2026-000002 at the same place and category; "
            "act on that case, or confirm this is another hazard to reopen anyway")
    assert "HZ-2026-000001 found v3" in run("case", "act", "HZ-2026-000001", "reopen", "--token",
                                            gw, "--reason", "另一处", "--confirm-new").stdout


def test_a_misspelled_setting_is_named_with_the_one_it_was_meant_to_be(run, monkeypatch):
    # HAZARDFLOW_DATABSE_URL was ignored without a word: the events went to the SQLite file.
    monkeypatch.setenv("HAZARDFLOW_DATABSE_URL", "postgresql://postgres@127.0.0.1/test")
    done = run("projections", "status")
    assert ("warning: HAZARDFLOW_DATABSE_URL is not a hazardflow setting (did you mean "
            "HAZARDFLOW_DATABASE_URL?); it is ignored") in done.stderr
    assert "SQLite" in done.stdout


def test_a_misspelled_setting_in_the_env_file_is_named_too(run, tmp_path):
    # Settings come from the environment or a .env file; a typo in the file was ignored
    # without a word, as one in the environment had been.
    (tmp_path / ".env").write_text("HAZARDFLOW_POOL_SIZE=3\n"
                                   "HAZARDFLOW_DATABSE_URL=postgresql://postgres@127.0.0.1/test\n")
    done = run("projections", "status")
    assert done.stderr.splitlines() == [
        ("warning: HAZARDFLOW_DATABSE_URL in .env is not a hazardflow setting (did you mean "
         "HAZARDFLOW_DATABASE_URL?); it is ignored")]
    assert "SQLite" in done.stdout


def test_every_hazardflow_variable_the_project_reads_is_a_known_one():
    # A variable read somewhere but missing from api.settings would be warned about as a typo.
    import re
    from pathlib import Path

    from api.settings import unknown_variables

    root = Path(__file__).resolve().parents[2]
    sources = [p for d in ("api", "projections", "workflows", "domain", "benchmarks", "scripts",
                           "tests") for p in (root / d).rglob("*") if p.suffix in (".py", ".sh")]
    names = {m for p in [*sources, root / "Makefile", root / "README.md"]
             for m in re.findall(r"HAZARDFLOW_[A-Z0-9_]*[A-Z0-9]", p.read_text("utf-8"))}
    assert len(names) > 10
    names -= {"HAZARDFLOW_DATABSE_URL"}  # the typo the test above makes on purpose
    assert unknown_variables(dict.fromkeys(names, "x")) == []


@pytest.mark.parametrize("ttl", ["inf", "301"])
def test_a_token_cache_longer_than_five_minutes_is_refused(run, ttl):
    # A revoked token works until the cache forgets it: --token-ttl inf kept it for ever.
    done = run("serve", "--token-ttl", ttl, ok=False)
    assert done.returncode == 2 and "--token-ttl" in done.stderr
    assert "300" in done.stderr  # the limit is named (rich wraps the message in a box)


def test_users_reissue_gives_the_same_account_a_new_token(run):
    old = token(run, "li", "grid_worker", "YS-C01-G01")
    run("users", "revoke", "li")
    done = run("users", "reissue", "li")
    new = done.stdout.strip()
    assert new and new != old and "previous token no longer works" in done.stderr
    assert "HZ-2026-000001 found v1" in report(run, new).stdout
    refused(report(run, old, "P2", ok=False), "this token was revoked")
    refused(run("users", "reissue", "nobody", ok=False), "no account named 'nobody'")


def test_users_change_moves_an_account_to_another_grid_under_the_same_token(run):
    li = token(run, "li", "grid_worker", "YS-C01-G01")
    assert "HZ-2026-000001 found v1" in report(run, li).stdout
    done = run("users", "change", "li", "--unit", "YS-C01-G02")
    assert done.stdout.strip() == ("changed li: grid_worker, YS-C01-G02 "
                                   "(was grid_worker, YS-C01-G01)")
    assert "--token-ttl" in done.stderr
    refused(report(run, li, "P2", ok=False),
            "li (grid_worker, YS-C01-G02) may not report in grid YS-C01-G01")
    assert "HZ-2026-000002 found v1" in report(run, li, "P2", "YS-C01-G02").stdout
    shown = run("case", "show", "HZ-2026-000001").stdout
    assert "by li (grid_worker, YS-C01-G01)" in shown  # recorded under the grid of then
    refused(run("users", "change", "li", ok=False),
            "a change needs a new role, a new unit or both")
    refused(run("users", "change", "li", "--role", "safety_officer", ok=False),
            "a safety_officer's unit is a community id like 'YS-C01', not 'YS-C01-G02'")
    refused(run("users", "change", "nobody", "--unit", "YS-C01-G01", ok=False),
            "no account named 'nobody'")


def test_a_command_without_a_token_says_how_to_give_one(run):
    """`case act` or `case report` without a token answered "a bearer token is required",
    an HTTP header's name, where the command line takes --token or HAZARDFLOW_TOKEN."""
    refused(report(run, "", ok=False),
            "a token is required: pass --token, or set HAZARDFLOW_TOKEN, to the one "
            "`hazardflow users add` printed")


def test_a_department_is_named_in_chinese_in_the_unit_columns(run):
    """In Chinese, the 单位 column of `users list` and of the audit trail showed a
    department officer's unit as its code, "fire", where the ledger says 消防."""
    wu = token(run, "wu", "department_officer", "fire")
    so = token(run, "chen", "safety_officer", "YS-C01")
    report(run, token(run, "li", "grid_worker", "YS-C01-G01"))
    for trigger, *options in (("notify", "--party-name", "王", "--party-role", "landlord"),
                              ("refuse", "--reason", "拒不整改")):
        run("case", "act", "HZ-2026-000001", trigger, "--token", so, *options)
    run("case", "act", "HZ-2026-000001", "accept_escalation", "--token", wu)
    users = list(csv.reader(run("users", "list", "--format", "csv").stdout.splitlines()))
    assert [r[2] for r in users[1:]] == ["YS-C01", "YS-C01-G01", "消防"]
    audit = list(csv.reader(run("report", "audit", "--format", "csv").stdout.splitlines()))
    assert "消防" in {r[7] for r in audit[1:]} and "fire" not in {r[7] for r in audit[1:]}


def test_users_list_shows_every_account_by_name_with_filters_and_formats(run, tmp_path):
    token(run, "zhou", "grid_worker", "YS-C01-G02")
    token(run, "chen", "safety_officer", "YS-C01")
    token(run, "wu", "department_officer", "fire")
    run("users", "revoke", "wu")
    rows = list(csv.reader(run("users", "list", "--format", "csv", "--lang", "en")
                           .stdout.lstrip("\ufeff").splitlines()))
    assert rows[0] == ["Name", "Role", "Unit", "Status", "Created at", "Token issued at"]
    assert [r[:4] for r in rows[1:]] == [["chen", "safety_officer", "YS-C01", "active"],
                                         ["wu", "department_officer", "fire", "revoked"],
                                         ["zhou", "grid_worker", "YS-C01-G02", "active"]]
    assert all(r[4].endswith("+08:00") and r[5] >= r[4] for r in rows[1:])  # China time
    # in XLSX, real date-time cells in China time (they were text)
    out = tmp_path / "users.xlsx"
    run("users", "list", "--format", "xlsx", "--out", str(out))
    sheet = openpyxl.load_workbook(out).active
    created = [row[4] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert created == [datetime.fromisoformat(r[4]).replace(tzinfo=None) for r in rows[1:]]
    assert sheet["E2"].number_format == "yyyy-mm-dd hh:mm:ss"

    def names(*options: str) -> list[str]:
        listed = json.loads(run("users", "list", "--format", "json", *options).stdout)
        return [row["name"] for row in listed["rows"]]

    assert names("--revoked") == ["wu"]
    assert names("--active") == ["chen", "zhou"]
    assert names("--unit", "YS-C01") == ["chen", "zhou"]  # the community and its grids
    assert names("--role", "grid_worker") == ["zhou"]
    table = run("users", "list").stdout
    assert "已停用" in table and "安全员" in table and "账号" in table
    refused(run("users", "list", "--format", "xml", ok=False),
            "unknown format 'xml'; expected one of: table, csv, xlsx, json")


def test_users_list_active_and_revoked_together_are_refused(run):
    # The flags were one pair, --active/--revoked, of which the last given won: both printed
    # an empty table (exit 0), read as "no account".
    token(run, "zhou", "grid_worker", "YS-C01-G02")
    for flags in (("--active", "--revoked"), ("--revoked", "--active")):
        refused(run("users", "list", *flags, ok=False),
                "--active and --revoked together match no account: give one, or neither "
                "for every account")


def test_a_stale_expected_version_names_the_case_by_its_number(run):
    report(run, token(run, "li", "grid_worker", "YS-C01-G01"))  # HZ-2026-000001, v1
    so = token(run, "chen", "safety_officer", "YS-C01")
    run("case", "act", "HZ-2026-000001", "comment", "--token", so, "--text", "已联系房东")
    refused(run("case", "act", "HZ-2026-000001", "comment", "--token", so, "--text", "再次联系",
                "--expected-version", "1", ok=False),
            "case HZ-2026-000001 is at version 2, not 1: reload it and decide again")


def test_closing_as_enforced_without_an_enforcement_is_a_user_error(run):
    report(run, token(run, "li", "grid_worker", "YS-C01-G01"))  # HZ-2026-000001
    so = token(run, "chen", "safety_officer", "YS-C01")
    fire = token(run, "wu", "department_officer", "fire")
    run("case", "act", "HZ-2026-000001", "notify", "--token", so, "--party-name", "王",
        "--party-role", "landlord")
    run("case", "act", "HZ-2026-000001", "refuse", "--token", so, "--reason", "拒不整改")
    run("case", "act", "HZ-2026-000001", "accept_escalation", "--token", fire)
    refused(run("case", "act", "HZ-2026-000001", "close", "--token", fire,
                "--closing-reason", "enforced", ok=False),
            "HZ-2026-000001 cannot be closed as enforced: no enforcement is recorded since it "
            "was reported; record the enforcement decision first (decision number, measure, "
            "amount)")
    run("case", "act", "HZ-2026-000001", "record_enforcement", "--token", fire,
        "--decision-number", "园消罚〔2026〕1号", "--measure", "warning")
    assert "HZ-2026-000001 closed v6" in run("case", "act", "HZ-2026-000001", "close",
                                             "--token", fire, "--closing-reason",
                                             "enforced").stdout


def test_an_administrator_moves_a_place_when_grids_are_redrawn(run):
    worker = token(run, "li", "grid_worker", "YS-C01-G01")
    report(run, worker)  # HZ-2026-000001 at P1
    other = token(run, "qian", "grid_worker", "YS-C01-G02")
    admin = token(run, "zhao", "admin", "YS")
    move = ("places", "move", "P1", "--grid", "YS-C01-G02", "--reason", "网格调整")
    refused(run(*move, ok=False), "a token is required: pass --token, or set "
            "HAZARDFLOW_TOKEN, to the one `hazardflow users add` printed")
    refused(run(*move, "--token", worker, ok=False),
            "only an admin moves a place, not a grid_worker")
    refused(run(*move[:3], "--grid", "ZZ-C01-G01", *move[5:], "--token",
                token(run, "wu", "admin", "ZZ"), ok=False),
            "no place P1 is registered in your area")
    refused(run(*move[:3], "--grid", "ZZ-C01-G01", *move[5:], "--token", admin, ok=False),
            "grid ZZ-C01-G01 lies outside your street YS")
    moved = run(*move, "--token", admin)
    assert moved.stdout.splitlines() == [
        "moved P1 to grid YS-C01-G02, community YS-C01 (was grid YS-C01-G01, rental_house)",
        "its open cases are now in grid YS-C01-G02: HZ-2026-000001"]
    # the case moved with its place: the new grid's worker acts on it, the old one's not
    refused(run("case", "act", "HZ-2026-000001", "comment", "--text", "x", "--token", worker,
                ok=False), "no hazard case HZ-2026-000001")
    assert "HZ-2026-000001 found v3" in run("case", "act", "HZ-2026-000001", "comment",
                                            "--text", "已转本网格", "--token", other).stdout
    shown_case = run("case", "show", "HZ-2026-000001").stdout
    assert "move_place -> found" in shown_case and "by zhao (admin, YS)" in shown_case
    assert "网格调整; grid=YS-C01-G02 (was YS-C01-G01)" in shown_case
    assert "HZ-2026-000002 found v1" in report(run, other, "P1", "YS-C01-G02", "YS-C01",
                                                "--confirm-new").stdout
    shown = run("places", "show", "P1").stdout.splitlines()
    assert shown[0] == "P1: rental_house, grid YS-C01-G02, community YS-C01"
    assert shown[2].endswith("moved to grid YS-C01-G02 (rental_house) by zhao: 网格调整")
    assert shown[-1] == "open cases: HZ-2026-000001, HZ-2026-000002"
    refused(run("places", "move", "P1", "--grid", "YS-C02", "--reason", "x", "--token",
                admin, ok=False),
            "grid 'YS-C02' is not a grid of community 'YS' (grid ids are the community id, "
            "a dash and the grid's own code)")
    refused(run("places", "show", "P9", ok=False),
            "no place P9 is registered: it has never been reported")


def test_a_redrawing_moves_the_places_a_file_lists_or_none(run, tmp_path):
    worker = token(run, "li", "grid_worker", "YS-C01-G01")
    for place in ("P1", "P2", "P3"):
        report(run, worker, place)
    admin = token(run, "zhao", "admin", "YS")
    bad = tmp_path / "bad.csv"
    bad.write_text("place_id,grid,kind\nP1,YS-C01-G02,\nP9,YS-C01-G02,\nP2,ZZ-C01-G01,\n"
                   "P3,YS-C01-G02,castle\nP1,YS-C01-G03,\n,YS-C01-G02,\n", encoding="utf-8")
    refused_file = run("places", "move-many", str(bad), "--reason", "网格调整", "--token",
                       admin, ok=False)
    assert refused_file.returncode == 2
    assert refused_file.stderr.splitlines() == [
        f"{bad}: line 3: no place P9 is registered in your area",
        f"{bad}: line 4: grid ZZ-C01-G01 lies outside your street YS",
        f"{bad}: line 5: unknown place kind 'castle'",
        f"{bad}: line 6: place P1 is on an earlier line too",
        f"{bad}: line 7: a place_id and a grid are both needed",
        f"error: nothing moved: 5 line(s) of {bad} refused (listed above)"]
    assert run("places", "show", "P1").stdout.startswith("P1: rental_house, grid YS-C01-G01")
    good = tmp_path / "redrawn.csv"  # as Excel saves it: with a byte order mark
    # as Excel saves it: a byte order mark, CRLF, and a row with every field empty (,,)
    good.write_text("\ufeffplace_id,grid,kind\r\nP1,YS-C01-G02,\r\n,,\r\n"
                    "P2,YS-C01-G02,enterprise\r\nP3,YS-C01-G01,\r\n ,, \r\n",
                    encoding="utf-8")
    moved = run("places", "move-many", str(good), "--reason", "网格调整", "--token", admin)
    assert moved.stdout.strip() == (
        "moved 2 place(s) and their open cases; 1 already where redrawn.csv puts them")
    assert run("places", "show", "P2").stdout.startswith("P2: enterprise, grid YS-C01-G02")
    again = run("places", "move-many", str(good), "--reason", "网格调整", "--token", admin)
    assert again.stdout.strip() == (
        "moved 0 place(s) and their open cases; 3 already where redrawn.csv puts them")
    headless = tmp_path / "headless.csv"
    headless.write_text("P1,YS-C01-G03\n", encoding="utf-8")
    refused(run("places", "move-many", str(headless), "--reason", "x", "--token", admin,
                ok=False),
            f"{headless}: the header line must name place_id and grid (and may name kind); "
            "missing grid, place_id")
    for odd, told in (("place_id,grid,grid\nP1,YS-C01-G01,YS-C01-G03\n",
                       "the header line names grid twice"),
                      ("place_id,grid\nP1,YS-C01-G01,YS-C01-G03\n",
                       "line 2 has more fields than the header line names")):
        headless.write_text(odd, encoding="utf-8")
        refused(run("places", "move-many", str(headless), "--reason", "x", "--token", admin,
                    ok=False), f"{headless}: {told}")
    refused(run("places", "move-many", str(good), "--reason", "x", "--token", worker,
                ok=False),
            "only an admin moves a place, not a grid_worker")


def test_a_history_line_names_a_rule_given_as_the_reason_once() -> None:
    # The tick's events record their rule as the reason too: case show printed it twice.
    from api.cli.case import _details

    rule = "deadline.missed (rules v3)"
    missed = SimpleNamespace(reason=rule, rule=rule, deadline="2026-03-09")
    assert _details(missed) == "deadline.missed (rules v3); deadline=2026-03-09"
