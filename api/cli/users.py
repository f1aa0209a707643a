"""``hazardflow users``: accounts and their bearer tokens."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from api.accounts import Account, Accounts
from api.cli.context import creating_service, service
from api.cli.report import FORMAT, LANG, OUT, check_output, emit
from api.scopes import within
from domain.errors import DomainError
from domain.timeutil import local_date, shown
from domain.values import Role
from projections.report import Column, Report
from projections.units import require_known

# The roles an account may hold: every role but the deadline tick's own (offered, it was
# only refused after it was chosen).
_ACCOUNT_ROLES = {r.name: r.value for r in Role if r is not Role.SYSTEM}
# Made from Role, not a second list of it; mypy cannot list such members (it knows the class).
AccountRole = Enum("AccountRole", _ACCOUNT_ROLES, type=str)  # type: ignore[misc]

# Module-level, as ruff's B008 asks of option defaults whose type is not a plain value.
ROLE = typer.Option(..., "--role", help="the account's role")
NEW_ROLE = typer.Option(None, "--role", help="the account's new role")
ONLY_ROLE = typer.Option(None, "--role", help="only accounts of this role")

app = typer.Typer(help="Accounts: who may act, in which role and unit.", no_args_is_help=True)


@app.command("add")
def add(
    name: str = typer.Argument(..., help="account name, recorded as the actor id"),
    role: AccountRole = ROLE,
    unit: str = typer.Option(..., help="grid, community, street or department code"),
) -> None:
    """Create an account and print its token once (only its hash is stored)."""
    token = Accounts(creating_service()).add(name, Role(role.value), unit)
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


@app.command("change")
def change(
    name: str = typer.Argument(..., help="account name"),
    role: AccountRole | None = NEW_ROLE,
    unit: str | None = typer.Option(None, help="the new grid, community, street or "
                                               "department code"),
) -> None:
    """Move an account to another role or unit (a grid worker to another grid). It keeps
    its name and token, so its actions stay under one actor id; events already recorded
    keep the role and unit they were recorded under."""
    accounts = Accounts(service())
    before = accounts.get(name)
    was = f"{before.role}, {before.unit}"
    after = accounts.change(name, role=role and Role(role.value), unit=unit)
    typer.echo(f"changed {name}: {after.role}, {after.unit} (was {was})")
    typer.echo("a running server sees the change within its --token-ttl", err=True)


@app.command("list")
def list_accounts(
    role: AccountRole | None = ONLY_ROLE,
    unit: str | None = typer.Option(None, help="only accounts in this unit or inside it "
                                               "(YS-C01: the community and its grids)"),
    active: bool = typer.Option(False, "--active", help="only active accounts"),
    revoked: bool = typer.Option(False, "--revoked", help="only revoked accounts"),
    fmt: str = FORMAT, lang: str = LANG, out: Path | None = OUT,
) -> None:
    """Every account by name: role, unit, status, when it was created and when its token
    was last issued (China time)."""
    if active and revoked:  # a list of nothing would read as "no such account"
        raise DomainError("--active and --revoked together match no account: give one, "
                          "or neither for every account")
    check_output(fmt, lang, out)
    cases = service()
    rows = [_row(a) for a in Accounts(cases).all()
            if (role is None or a.role == role.value)
            and (unit is None or within(a.unit, unit))
            and (not active or not a.revoked) and (not revoked or a.revoked)]
    if not rows:  # a misspelt --unit lists nobody, which would read as "no account there"
        require_known(cases, (("unit", unit),))
    emit(Report("accounts", "Accounts", "账号", COLUMNS, rows,
                local_date(cases.clock.now()), basis="current"), fmt, lang, out)


COLUMNS = (
    Column("name", "Name", "账号"),
    Column("role", "Role", "角色", vocab="role"),
    Column("unit", "Unit", "单位", vocab="department"),  # a department officer's: 消防
    Column("status", "Status", "状态", vocab="account_status"),
    Column("created_at", "Created at", "创建时间", "local_datetime"),
    Column("token_issued_at", "Token issued at", "令牌签发时间", "local_datetime"),
)


def _row(account: Account) -> tuple[str, ...]:
    return (account.name, account.role, account.unit,
            "revoked" if account.revoked else "active",
            shown(account.created_on), shown(account.token_issued_on))
