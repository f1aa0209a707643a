"""Which functional department (职能部门) enforces which kind of hazard.

The table itself lives in the rules file (``[routing.category]`` and, for a place kind
that overrides its category's department, ``[routing.place_kind.<kind>]``); this module
reads a decision from it. ``Policy.route`` adds the rules version to the rule text.
"""

from __future__ import annotations

from domain.values import Category, Department, PlaceKind, parse_enum
from workflows.rules import Routing


def route(routing: Routing, category: str, place_kind: str) -> tuple[Department, str]:
    """The department for a hazard, and the key of the rule that chose it."""
    category_ = parse_enum(Category, category, "category")
    kind = parse_enum(PlaceKind, place_kind, "place kind")
    special = routing.place_kind.get(kind, {}).get(category_)
    if special is not None:
        return special, f"routing.place_kind.{kind.value}.{category_.value} = {special.value}"
    department = routing.category[category_]
    return department, f"routing.category.{category_.value} = {department.value}"
