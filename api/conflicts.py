"""A conflict on a case names the case by its number, as every other message does.

The service refuses a command decided on a stale version (``VersionConflict``) and gives up
on one whose saves kept colliding with concurrent writers (``ConcurrencyExhausted``), naming
the case by its id. A clerk, and a client showing ``detail`` to one, knows the case as
``HZ-2026-000123``; the edges (HTTP command routes, ``hazardflow case act``) run their
commands inside ``named_by_number``, which puts the number in the message and keeps the
error's class and fields (``current_version``, ``expected_version``) for ``api.errors``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from domain.errors import VersionConflict
from workflows.service import ConcurrencyExhausted, HazardCases


@contextmanager
def named_by_number(cases: HazardCases, case_id: UUID) -> Iterator[None]:
    """Around a command on case ``case_id``: a conflict's message names its number."""
    try:
        yield
    except (VersionConflict, ConcurrencyExhausted) as conflict:
        # Read only on this rare path, in the command's own thread.
        number = cases.get_case(case_id).number
        conflict.args = (str(conflict).replace(str(case_id), number),)
        raise
