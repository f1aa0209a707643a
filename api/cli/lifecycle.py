"""``hazardflow lifecycle``: print the lifecycle table, read from the machine itself."""

from __future__ import annotations

import typer
from rich.table import Table

from projections.render import print_table
from workflows import lifecycle


def show_lifecycle(
    markdown: bool = typer.Option(False, "--markdown", help="print a Markdown table"),
) -> None:
    """Which trigger leads from which state to which, and who may use it."""
    rows = [(r.source, r.trigger + (f" ({r.outcome})" if r.outcome else ""), r.dest,
             ", ".join(sorted(role.value for role in r.roles))) for r in lifecycle.RULES]
    headers = ("from", "trigger", "to", "roles")
    if markdown:
        typer.echo("| " + " | ".join(headers) + " |")
        typer.echo("|" + "---|" * len(headers))
        for row in rows:
            typer.echo("| " + " | ".join(row) + " |")
        return
    table = Table(*headers)
    for row in rows:
        table.add_row(*row)
    print_table(table)  # at its natural width: a role name cut to '…' would mislead
