"""``hazardflow case attach``: put photos and documents on a case's record."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import typer

from api.cli.case import TOKEN, in_scope
from api.cli.context import caller, service, settings
from api.wiring import open_blobs
from domain.errors import DomainError
from workflows.evidence import attach as attach_files


def attach(
    case: str = typer.Argument(..., help="case number (HZ-2026-000123) or id"),
    files: list[Path] = typer.Argument(..., help="photos (JPEG, PNG, WebP, HEIC) or PDFs"),
    note: str = typer.Option("", help="what the files show"),
    command_id: str | None = typer.Option(None, help="client command id (idempotency)"),
    token: str | None = TOKEN,
) -> None:
    """Store files by content hash and record them on the case (one event)."""
    actor = caller(token)
    case_id = in_scope(case, actor)
    with ExitStack() as stack:
        try:
            opened = [(path.name, stack.enter_context(path.open("rb"))) for path in files]
        except (FileNotFoundError, IsADirectoryError) as error:
            raise DomainError(f"cannot read {error.filename}") from None
        result, evidence = attach_files(service(), open_blobs(settings()), case_id, actor,
                                        opened, note=note, command_id=command_id)
    typer.echo(f"{result.number} {result.state} v{result.version}"
               f"{' (replayed: nothing appended)' if result.replayed else ''}")
    for ref in evidence:
        typer.echo(f"  {ref.name}  {ref.media_type}  {ref.size:,} bytes  sha256 {ref.sha256}")
