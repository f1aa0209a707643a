"""``hazardflow users``: accounts and their bearer tokens."""

from __future__ import annotations

from enum import Enum

import typer

from api.accounts import Accounts
from api.cli.context import service
from domain.values import Role

# The roles an account may hold: every role but the deadline tick's own (offered, it was
# only refused after it was chosen).
AccountRole = Enum("AccountRole", {r.name: r.value for r in Role if r is not Role.SYSTEM},
                   type=str)

app = typer.Typer(help="Accounts: who may act, in which role and unit.", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="account name, recorded as the actor id"),
    role: AccountRole = typer.Option(..., help="the account's role"),
    unit: str = typer.Option(..., help="grid, community, street or department code"),
) -> None:
    """Create an account and print its token once (only its hash is stored)."""
    token = Accounts(service()).add(name, Role(role.value), unit)
    typer.echo(token)
    typer.echo(f"created {name} ({role.value}, {unit}); keep the token above, it is not "
               "shown again", err=True)


@app.command("revoke")
def revoke(name: str = typer.Argument(..., help="account name")) -> None:
    """End an account's token at once."""
    Accounts(service()).revoke(name)
    typer.echo(f"revoked {name}")


@app.command("reissue")
def reissue(name: str = typer.Argument(..., help="account name")) -> None:
    """Print a new token for an account, revoked or not (a lost phone); the old one ends.
    The account keeps its name, so its actions stay under one actor id."""
    token = Accounts(service()).reissue(name)
    typer.echo(token)
    typer.echo(f"new token for {name}; its previous token no longer works; keep the token "
               "above, it is not shown again", err=True)
