"""The ``hazardflow`` command line.

A user mistake prints one line (``error: ...``) and exits 2; no traceback.
Each sub-command group lives in its own module and is registered below.
"""

from __future__ import annotations

import sqlite3
import sys

import psycopg
import typer
from eventsourcing.persistence import DatabaseError, InterfaceError, OperationalError
from pydantic import ValidationError

from domain.errors import DomainError

app = typer.Typer(
    name="hazardflow",
    help="Hazard cases (隐患排查治理): report, notify, rectify, escalate, close — on the record.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # One line per command group; each module owns its group.
    from api.cli import case, demo, lifecycle, users

    app.add_typer(case.app, name="case")
    app.add_typer(users.app, name="users")
    app.command("demo")(demo.demo)
    from api.cli import projections, report

    app.add_typer(projections.app, name="projections")
    app.command("worker")(projections.worker)
    app.add_typer(report.app, name="report")
    app.command("lifecycle")(lifecycle.show_lifecycle)
    from api.cli import serve

    app.command("serve")(serve.serve)
    from api.cli import attach, audit

    case.app.command("attach")(attach.attach)
    app.add_typer(audit.app, name="audit")
    from api.cli import escalation

    app.command("escalate-due")(escalation.escalate_due)
    app.add_typer(escalation.rules_app, name="rules")
    from api.cli import places

    app.add_typer(places.app, name="places")


_register()


# The store is down, unreachable or locked: not the user's mistake (exit 1), but no reason
# for a traceback either (cron mails whatever escalate-due prints).
STORE_ERRORS = (InterfaceError, OperationalError, psycopg.OperationalError,
                sqlite3.OperationalError)
# A SQLite path on a file that is not a database, or a damaged one, raises the bare
# DatabaseError; its subclasses (IntegrityError, ProgrammingError, ...) are bugs: traceback.
UNOPENABLE = (sqlite3.DatabaseError, DatabaseError)


def run() -> None:
    try:
        app()
    except STORE_ERRORS + UNOPENABLE as error:
        if not isinstance(error, STORE_ERRORS) and type(error) not in UNOPENABLE:
            raise
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        typer.echo(f"error: cannot reach the store: {first}", err=True)
        sys.exit(1)
    except (DomainError, ValidationError, ValueError, OSError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        if isinstance(error, ValidationError):
            message = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in error.errors())
        if (isinstance(error, UnicodeEncodeError) and error.reason == "surrogates not allowed"
                or isinstance(error, ValidationError)
                and any(e["type"] == "string_unicode" for e in error.errors())):
            message = _not_utf8()
        typer.echo(f"error: {message}", err=True)
        sys.exit(2)


def _not_utf8() -> str:
    # Python keeps an argument's undecodable bytes as lone surrogates, which fail only
    # when the text is stored: name the argument, not the codec's position in a payload.
    for arg in sys.argv[1:]:
        if any("\udc80" <= c <= "\udcff" for c in arg):
            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            return (f"argument '{shown}' is not UTF-8 text; hazardflow records text as "
                    "UTF-8 (check the terminal's encoding)")
    return "some text is not UTF-8; hazardflow records text as UTF-8"


if __name__ == "__main__":
    run()
