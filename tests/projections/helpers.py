"""Reading every projection table back in key order, to compare two builds row for row."""

from __future__ import annotations

import sys
from typing import Any

from api.cli.main import run
from projections import all_projections
from projections.db import Db


def dump(db: Db, names: list[str] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    with db.transaction() as tx:
        for p in all_projections():
            if names and p.name not in names:
                continue
            for table in p.tables:
                order = ", ".join(table.key)
                tables[table.name] = tx.execute(
                    f"SELECT {', '.join(table.names)} FROM {table.name} ORDER BY {order}")
    return tables


def run_hazardflow(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run ``hazardflow ARGS`` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["hazardflow", *args])
    code = 0
    try:
        run()
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
