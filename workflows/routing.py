"""Which functional department (职能部门) enforces which kind of hazard.

Refusals and escalations are routed here, so a case reaches the department that holds
the enforcement power for its category. A place kind may override its category's
department (e.g. small works on a construction site go to housing and construction).
"""

from __future__ import annotations

from domain.values import Category, Department, PlaceKind

C, D, P = Category, Department, PlaceKind

BY_CATEGORY: dict[Category, Department] = {
    C.FLYING_WIRE_CHARGING: D.FIRE,
    C.BLOCKED_FIRE_EXIT: D.FIRE,
    C.FIRE_EQUIPMENT: D.FIRE,
    C.ILLEGAL_WIRING: D.FIRE,
    C.MIXED_RESIDENTIAL_PRODUCTION: D.FIRE,
    C.FLAMMABLE_STORAGE: D.EMERGENCY_MANAGEMENT,
    C.GAS_SAFETY: D.URBAN_MANAGEMENT,
    C.UNREPORTED_SMALL_WORKS: D.HOUSING,
    C.OTHER: D.EMERGENCY_MANAGEMENT,
}

BY_CATEGORY_AND_PLACE: dict[tuple[Category, PlaceKind], Department] = {
    (C.FLAMMABLE_STORAGE, P.SMALL_VENUE): D.MARKET_REGULATION,
    (C.GAS_SAFETY, P.ENTERPRISE): D.EMERGENCY_MANAGEMENT,
    (C.OTHER, P.CONSTRUCTION_SITE): D.HOUSING,
}


def route(category: str, place_kind: str) -> tuple[Department, str]:
    """The department for a hazard, and the rule that chose it (recorded on the event)."""
    category_, kind = Category(category), PlaceKind(place_kind)
    special = BY_CATEGORY_AND_PLACE.get((category_, kind))
    if special is not None:
        return special, f"routing: {category_.value} at {kind.value} -> {special.value}"
    department = BY_CATEGORY[category_]
    return department, f"routing: {category_.value} -> {department.value}"
