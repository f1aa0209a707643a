"""``hazardflow projections ...``, ``report ...`` and ``worker`` end to end (SQLite file)."""

from __future__ import annotations

import os
import re

import pytest
from openpyxl import load_workbook

from api.accounts import Accounts
from projections import all_projections, by_names
from projections.db import SqliteDb, store_db
from projections.runner import Runner
from projections.worker import TICKS, work
from tests.factories import report, to_notified
from tests.projections.helpers import dump, run_hazardflow


@pytest.fixture
def store(cli_store):
    to_notified(cli_store, 1)
    report(cli_store, 2)
    return cli_store


def test_status_catch_up_and_rebuild(store, monkeypatch, capsys):
    every = len(all_projections())
    code, out, _ = run_hazardflow(monkeypatch, capsys, "projections", "status")
    assert code == 0 and out.count("not built") == every
    code, out, _ = run_hazardflow(monkeypatch, capsys, "projections", "catch-up")
    assert code == 0 and "applied 3 events" in out
    assert f"up to date with the log (head {store.recorder.max_notification_id()})" in out
    _, out, _ = run_hazardflow(monkeypatch, capsys, "projections", "status")
    assert out.count("up to date") == every
    code, out, _ = run_hazardflow(monkeypatch, capsys, "projections", "rebuild", "ledger", "risk")
    assert code == 0 and "rebuilt ledger, risk from 3 events" in out



def test_status_says_what_is_applied_and_what_remains(store, monkeypatch, capsys):
    # The log's last records are not case events (a case number, a place register): caught
    # up, every projection showed "position 6, head 9, up to date", as if 3 were missing.
    every = [p.name for p in all_projections()]

    def rows() -> dict[str, tuple[int, int, str]]:
        code, out, _ = run_hazardflow(monkeypatch, capsys, "projections", "status")
        head = store.recorder.max_notification_id()
        assert code == 0 and f"the log's last record is {head};" in out
        found = re.findall(r"(\w+)\s+│ (\d+)\s+│ (\d+)\s+│ \d+\s+│ ([a-z ]+?)\s+│", out)
        return {name: (int(at), int(left), state) for name, at, left, state in found}

    assert rows() == {name: (0, 3, "not built") for name in every}  # 3 case events of 9
    Runner(store, all_projections()).catch_up()
    caught_up = rows()
    assert {name: row[1:] for name, row in caught_up.items()} == {
        name: (0, "up to date") for name in every}
    positions = {row[0] for row in caught_up.values()}  # the last case event, short of the head
    assert len(positions) == 1 and positions.pop() < store.recorder.max_notification_id()
    report(store, 3)
    assert {row[1:] for row in rows().values()} == {(1, "behind")}


def test_rebuild_in_two_processes_gives_the_rows_of_one(store, monkeypatch, capsys):
    Runner(store, all_projections()).catch_up()
    single = dump(store_db(store))
    code, out, _ = run_hazardflow(monkeypatch, capsys, "projections", "rebuild",
                                  "--processes", "2")
    assert code == 0 and "from 3 events" in out
    assert dump(store_db(store)) == single
    code, _, err = run_hazardflow(monkeypatch, capsys, "projections", "rebuild",
                                  "--processes", "0")
    assert code == 2 and "processes" in err

def test_reports_in_every_format(store, monkeypatch, capsys, tmp_path):
    code, out, _ = run_hazardflow(monkeypatch, capsys, "report", "ledger", "--format", "csv",
                              "--lang", "en")
    assert code == 0
    assert out.lstrip("\ufeff").splitlines()[0].startswith("Case number,Found,")
    assert len(out.splitlines()) == 3
    target = tmp_path / "risk.xlsx"
    code, _, err = run_hazardflow(monkeypatch, capsys, "report", "risk", "--as-of", "2026-03-02",
                              "--basis", "occurred", "--format", "xlsx", "--out", str(target))
    assert code == 0 and "2 rows written" in err
    assert load_workbook(target).active["F1"].value == "风险等级"
    code, out, _ = run_hazardflow(monkeypatch, capsys, "report", "stats", "--format", "json")
    assert code == 0 and '"found": 2' in out


@pytest.mark.parametrize("args, message", [
    (["report", "ledger", "--as-of", "2026-13-01"], "is not a date"),
    (["report", "ledger", "--as-of", "2099-01-01"], "in the future"),
    (["report", "ledger", "--as-of", "2026-03-02", "--basis", "guessed"], "unknown basis"),
    (["report", "ledger", "--format", "xlsx"], "xlsx needs --out"),
    (["report", "stats", "--format", "pdf"], "unknown format"),
    (["report", "risk", "--view", "map"], "risk view"),
    (["projections", "rebuild", "ledgr"], "unknown projection ledgr"),
    # a range that ends before it starts matches nothing: said, not an empty report
    (["report", "ledger", "--from", "2026-06-01", "--to", "2026-01-01"],
     "2026-06-01 is after 2026-01-01"),
    (["report", "audit", "--from", "2026-06-01", "--to", "2026-01-01"],
     "2026-06-01 is after 2026-01-01"),
    (["report", "stats", "--from", "2026-06", "--to", "2026-01"], "2026-06 is after 2026-01"),
    # a unit no account or case names (a typo) matches nothing: said, not an empty report
    (["report", "ledger", "--community", "YS-C99"],
     "unknown community 'YS-C99': no account holds it and no case was reported in it"),
    (["report", "ledger", "--grid", "YS-C01-G99"], "unknown grid 'YS-C01-G99'"),
    (["report", "stats", "--community", "YS-C99"], "unknown community 'YS-C99'"),
    (["report", "risk", "--community", "YS-C99", "--as-of", "2026-03-02"],
     "unknown community 'YS-C99'"),
    (["report", "accountability", "--unit", "YS-C99"], "unknown unit or person 'YS-C99'"),
    (["users", "list", "--unit", "YS-C99"], "unknown unit 'YS-C99'"),
    # an actor or a case nobody knows (a typo): said, not an empty trail
    (["report", "audit", "--actor", "wang"],
     "unknown actor 'wang': no account has that name and no one of that name acted on a case"),
    (["report", "audit", "--actor", "gw-lii", "--as-of", "2026-03-02"], "did you mean gw-li?"),
    (["report", "audit", "--case", "HZ-2026-999999"],
     "unknown case 'HZ-2026-999999': no case has that number or id"),
    (["report", "accountability", "--unit", "gw-lii"], "did you mean gw-li?"),
    (["report", "accountability", "--street", "ZS"], "unknown street 'ZS'"),
    (["report", "accountability", "--level", "grid", "--unit", "YS-C01"],
     "'YS-C01' is a community, not a grid"),
    (["report", "risk", "--place", "P-9999"], "unknown place 'P-9999': no case was reported at it"),
])
def test_user_mistakes_print_one_line_and_exit_2(store, monkeypatch, capsys, args, message):
    code, _, err = run_hazardflow(monkeypatch, capsys, *args)
    assert code == 2
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_grid_outside_the_community_named_prints_where_it_lies(store, monkeypatch, capsys):
    Accounts(store).add("wang", "grid_worker", "YS-C02-G01")
    code, _, err = run_hazardflow(monkeypatch, capsys, "report", "ledger", "--community",
                                  "YS-C01", "--grid", "YS-C02-G01")
    assert (code, err) == (2, "error: grid YS-C02-G01 lies in community YS-C02, not YS-C01\n")
    # an account that never acted is answered with an empty trail
    code, _, _ = run_hazardflow(monkeypatch, capsys, "report", "audit", "--actor", "wang")
    assert code == 0


def test_the_worker_catches_up_then_runs_the_registered_ticks(store, monkeypatch):
    seen: list[bool] = []
    runner = Runner(store, all_projections())
    TICKS.append(lambda service: seen.append(all(s.up_to_date for s in runner.status())))
    try:
        work(store, runner, interval=0.01, rounds=2)
    finally:
        TICKS.pop()
    assert seen == [True, True]


def test_the_worker_survives_another_process_moving_a_projection(store, monkeypatch):
    from projections.runner import ProjectionConflict

    runner = Runner(store, all_projections())
    calls = []

    def conflicting(*args, **kwargs):
        calls.append(1)
        raise ProjectionConflict("moved by another process")

    monkeypatch.setattr(runner, "catch_up", conflicting)
    work(store, runner, interval=0.01, rounds=2)
    assert len(calls) == 2


def test_the_worker_goes_on_after_the_database_fails_a_round(store, monkeypatch, capsys):
    # PostgreSQL restarted (or a deadlock, or SQLite busy past its timeout): the worker
    # died with a traceback, and with it the deadline tick, until someone noticed.
    from eventsourcing.persistence import OperationalError

    runner = Runner(store, all_projections())
    real, calls = runner.catch_up, []

    def once_down(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("terminating connection due to administrator command")
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "catch_up", once_down)
    failed: list[Exception] = []
    work(store, runner, interval=0.01, rounds=2, on_error=failed.append)
    assert len(calls) == 2 and len(failed) == 1
    assert all(s.up_to_date for s in runner.status())


def test_report_out_writes_through_a_link_or_a_pipe_never_replaces_it(store, monkeypatch,
                                                                         capsys, tmp_path):
    # The whole-file write (scratch file, then rename) renamed over whatever --out named:
    # `--out /dev/stdout` replaced that link with a regular file (as root, /dev/full or
    # /dev/null became files too), a link to the shared export lost its target.
    import stat
    import threading

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "ledger.csv").write_text("last week's ledger")
    link = tmp_path / "ledger.csv"
    link.symlink_to(shared / "ledger.csv")
    code, _, err = run_hazardflow(monkeypatch, capsys, "report", "ledger", "--format", "csv",
                                  "--lang", "en", "--out", str(link))
    assert code == 0, err
    assert link.is_symlink()
    assert (shared / "ledger.csv").read_text(encoding="utf-8-sig").startswith("Case number,")
    assert sorted(p.name for p in shared.iterdir()) == ["ledger.csv"]

    pipe, got = tmp_path / "pipe", []
    os.mkfifo(pipe)
    reader = threading.Thread(target=lambda: got.append(pipe.read_bytes()), daemon=True)
    reader.start()
    code, _, err = run_hazardflow(monkeypatch, capsys, "report", "stats", "--format", "json",
                                  "--out", str(pipe))
    reader.join(5)
    assert code == 0, err
    assert stat.S_ISFIFO(os.lstat(pipe).st_mode)
    assert got and b'"report": "stats"' in got[0]


@pytest.mark.parametrize("command", [["catch-up"], ["rebuild"], ["rebuild", "--processes", "2"]])
def test_catch_up_and_rebuild_go_on_when_another_process_applies_a_page(store, monkeypatch,
                                                                        capsys, command):
    # A report (CLI or HTTP) or the worker applying a page while an operator rebuilds: the
    # page is theirs, the rebuild stopped with 'run catch-up again' (exit 2), and so did
    # that catch-up whenever the worker or a report moved first again.
    from projections.runner import ProjectionConflict

    real, moves = Runner._advance, []

    def another_process_first(tx, name, position, last):
        moves.append(name)
        if len(moves) == 1:
            raise ProjectionConflict(f"projection {name} was moved by another process")
        real(tx, name, position, last)

    monkeypatch.setattr(Runner, "_advance", staticmethod(another_process_first))
    code, _, err = run_hazardflow(monkeypatch, capsys, "projections", *command)
    assert code == 0, err
    assert all(s.up_to_date for s in Runner(store, all_projections()).status())
    assert dump(store_db(store)) == _rebuilt(store)


def _rebuilt(service):
    memory = SqliteDb.memory()
    Runner(service, all_projections(), memory).catch_up()
    return dump(memory)


def test_a_projection_named_twice_is_caught_up_or_rebuilt_once(store, monkeypatch, capsys):
    # Two runners' worth of one projection in one: 'catch-up risk risk' on a new store
    # stopped with a traceback (UNIQUE constraint failed: projection_tracking.name), and
    # 'rebuild ledger ledger' emptied the ledger, blamed another process and left it so.
    code, out, err = run_hazardflow(monkeypatch, capsys, "projections", "catch-up", "risk",
                                    "risk")
    assert code == 0, err
    assert "applied 3 events; risk up to date" in out
    code, out, err = run_hazardflow(monkeypatch, capsys, "projections", "rebuild", "ledger",
                                    "ledger")
    assert code == 0, err
    assert "rebuilt ledger from 3 events" in out
    assert all(s.up_to_date for s in Runner(store, by_names(["ledger", "risk"])).status())


def test_a_rebuild_stopped_by_ctrl_c_says_how_to_go_on(store, monkeypatch, capsys):
    # It exited 130 without a word, the projections part-built.
    real, calls = Runner._advance, []

    def interrupted(tx, name, position, last):
        calls.append(name)
        if len(calls) == 1:
            raise KeyboardInterrupt
        real(tx, name, position, last)

    monkeypatch.setattr(Runner, "_advance", staticmethod(interrupted))
    code, _, err = run_hazardflow(monkeypatch, capsys, "projections", "rebuild")
    assert code == 130
    assert "stopped; the events applied so far are kept" in err and "catch-up" in err
    code, _, err = run_hazardflow(monkeypatch, capsys, "projections", "catch-up")
    assert code == 0, err
    assert dump(store_db(store)) == _rebuilt(store)
