"""What every CLI command needs: settings, the service, the caller's identity."""

from __future__ import annotations

import atexit
import os
import sqlite3
from functools import cache

import typer

from api.accounts import Accounts, Unauthenticated
from api.settings import Settings, unknown_in_env_file, unknown_variables
from api.wiring import open_cases
from domain.values import Actor
from workflows.service import HazardCases


@cache
def settings() -> Settings:
    for warning in unknown_variables(os.environ) + unknown_in_env_file():
        typer.echo(warning, err=True)
    return Settings()


class StoreMissing(sqlite3.OperationalError):
    """The SQLite file named by the settings does not exist: answered as a store that
    cannot be reached (exit 1). Opening it would make an empty store (and its folders)
    where a path was mistyped, and reports and ``audit verify`` would then answer "no
    hazards" and "OK" for a store that is somewhere else."""


def creating_service() -> HazardCases:
    """The service, making the store if there is none yet: for ``users add``, by which
    the first account, and so a new store, comes to exist."""
    store = settings()
    if not store.uses_postgres and not store.sqlite_path.exists():
        store.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        sqlite3.connect(store.sqlite_path).close()  # an empty database, which opening fills
    return service()


def require_store(store: Settings) -> None:
    """Refuse a SQLite store that does not exist."""
    if not store.uses_postgres and not store.sqlite_path.exists():
        raise StoreMissing(
            f"no store at {store.sqlite_path} (HAZARDFLOW_SQLITE_PATH); `hazardflow users "
            "add` or `hazardflow demo` makes one")


@cache
def service() -> HazardCases:
    require_store(settings())
    cases = open_cases(settings())
    atexit.register(cases.shutdown)
    return cases


def caller(token: str | None) -> Actor:
    """The authenticated actor for a command that records an event."""
    if not token:  # named as the command line takes it, not as an HTTP header
        raise Unauthenticated("a token is required: pass --token, or set HAZARDFLOW_TOKEN, "
                              "to the one `hazardflow users add` printed")
    return Accounts(service()).authenticate(token)
