"""What every CLI command needs: settings, the service, the caller's identity."""

from __future__ import annotations

import atexit
import os
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


@cache
def service() -> HazardCases:
    cases = open_cases(settings())
    atexit.register(cases.shutdown)
    return cases


def caller(token: str | None) -> Actor:
    """The authenticated actor for a command that records an event."""
    if not token:  # named as the command line takes it, not as an HTTP header
        raise Unauthenticated("a token is required: pass --token, or set HAZARDFLOW_TOKEN, "
                              "to the one `hazardflow users add` printed")
    return Accounts(service()).authenticate(token)
