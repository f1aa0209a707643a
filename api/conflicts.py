"""A conflict on a case names the case by its number, as every other message does, and a
refused trigger offers what the case view offers.

The service refuses a command decided on a stale version (``VersionConflict``) and gives up
on one whose saves kept colliding with concurrent writers (``ConcurrencyExhausted``), naming
the case by its id. A clerk, and a client showing ``detail`` to one, knows the case as
``HZ-2026-000123``; the edges (HTTP command routes, ``hazardflow case act``) run their
commands inside ``named_by_number``, which puts the number in the message and keeps the
error's class and fields (``current_version``, ``expected_version``) for ``api.errors``.

A trigger the lifecycle refuses (``IllegalTransition``, 403 / 409) names the triggers the
table allows the role from the state; ``named_by_number`` narrows them, in the message and
in ``allowed``, to ``api.schemas.cases.offered_triggers``, the list ``GET /api/cases/{case}``
shows, so neither offers a department's decision before it accepted the escalation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from api.schemas.cases import offered_triggers
from domain.errors import IllegalTransition, VersionConflict
from domain.values import Role
from workflows.service import ConcurrencyExhausted, HazardCases


@contextmanager
def named_by_number(cases: HazardCases, case_id: UUID) -> Iterator[None]:
    """Around a command on case ``case_id``: a conflict's message names its number, and a
    refused trigger lists the triggers the case view offers."""
    try:
        yield
    except (VersionConflict, ConcurrencyExhausted) as conflict:
        # Read only on this rare path, in the command's own thread.
        number = cases.get_case(case_id).number
        conflict.args = (str(conflict).replace(str(case_id), number),)
        raise
    except IllegalTransition as refused:
        offer(refused, cases, case_id)
        raise


def offer(refused: IllegalTransition, cases: HazardCases, case_id: UUID) -> None:
    """Narrow a refusal's allowed triggers to what the case offers the role now."""
    role = next((r for r in Role if r.value == refused.role), None)
    if role is None:
        return
    # Read only on this rare path. The refusal was decided on the state it names; the
    # acceptance is the case's as stored now (the same unless a command came in between).
    accepted = cases.get_case(case_id).escalation_accepted
    offered = offered_triggers(refused.state, role, accepted)
    marker = f"; triggers allowed here for {refused.role}: "
    message, found, _ = str(refused).rpartition(marker)
    if found:
        refused.args = (f"{message}{marker}{', '.join(offered) or 'none'}",)
    refused.allowed = offered
