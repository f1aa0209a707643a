"""Read models built from the event log: ledger, accountability, audit, risk, stats.

How it works
------------
Each read model is a ``Projection`` (``projections.framework``): its tables and one
handler per event class. The ``Runner`` (``projections.runner``) reads pages of case-event
notifications, decodes each page once, applies it to every projection behind it and
writes their rows together with their tracking positions in one transaction. The same
handlers replay a filtered stream into memory for as-of reports (``projections.asof``).
``projections.reports`` is the one entry point for reading (CLI and HTTP alike);
``projections.render`` turns a ``Report`` into a table, CSV, XLSX or JSON.

How to add a projection (e.g. ``escalations``)
----------------------------------------------
1. Write ``projections/escalations.py``::

       class Escalations(Projection):
           name = "escalations"          # the tracking name, and the CLI's NAME
           version = 1                   # bump when tables or meaning change: rebuilt
           tables = (Table("escalations_open", (("case_id", "TEXT"), ("due", "TEXT")),
                           key=("case_id",), by_case=True),)

           def on_CaseEscalated(self, event, page):   # on_<EventClassName>
               page.put("escalations_open", {"case_id": str(event.originator_id),
                                             "due": ...})

   Handlers use only ``page.get/put`` (keyed rows), ``page.append`` (append-only rows),
   ``page.count`` (counters), ``page.seq`` (the event's notification id) and
   ``page.case_id`` (its case id as text); never SQL,
   never the clock: a projection is a function of the events.
2. Add an instance to ``all_projections()`` below. ``hazardflow projections status``,
   ``catch-up``, ``rebuild escalations`` and ``hazardflow worker`` then pick it up.
3. Give it a ``query(db, filters, *, as_of, basis) -> Report`` for readers, and a test in
   ``tests/projections`` (the incremental-vs-rebuild test compares every table of
   ``all_projections()`` automatically).
"""

from __future__ import annotations

from projections.framework import Projection


def all_projections() -> list[Projection]:
    """Fresh instances of every read model, in a stable order."""
    from projections.accountability import Accountability
    from projections.audit import AuditTrail
    from projections.escalations import Escalations
    from projections.ledger import Ledger
    from projections.risk import RiskGrades
    from projections.stats import Statistics

    return [Ledger(), Accountability(), AuditTrail(), RiskGrades(), Statistics(),
            Escalations()]


def by_names(names: list[str] | None) -> list[Projection]:
    """The projections named, each once (all when ``names`` is empty); a clear error for a
    typo."""
    from domain.errors import DomainError

    everything = all_projections()
    if not names:
        return everything
    known = {p.name: p for p in everything}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DomainError(f"unknown projection {', '.join(unknown)}; "
                          f"known: {', '.join(known)}")
    return [known[n] for n in dict.fromkeys(names)]
