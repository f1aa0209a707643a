"""Filing a report from any edge (``POST /api/cases``, Open311, ``hazardflow case report``):
the same checks in the same order, so no edge lets through what another refuses."""

from __future__ import annotations

from typing import Any

from api import scopes
from domain.values import Actor, Place
from workflows import lifecycle
from workflows.service import CommandResult, HazardCases


def report_in_scope(cases: HazardCases, actor: Actor, place: Place, **params: Any
                    ) -> CommandResult:
    """Report as ``actor``: their role may report, the place lies in their territory, and a
    probable duplicate they may not see is not named (``scopes.duplicates_told_in_scope``)."""
    lifecycle.next_state("new", "report", actor.role)
    scopes.require_may_report_at(actor, place.grid, place.community)
    with scopes.duplicates_told_in_scope(actor, cases):
        return cases.report(actor, place=place, **params)
