"""Value objects and vocabularies of the hazard domain (see shared/GLOSSARY.md).

Events store plain data (str, int, dict, list), so every value here has an
``as_dict``/``from_dict`` pair or is a ``str`` enum whose ``.value`` is stored.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any, TypeVar

from domain.errors import DomainError


class Role(str, Enum):
    GRID_WORKER = "grid_worker"
    VOLUNTEER = "volunteer"
    PROPERTY_STAFF = "property_staff"
    SAFETY_OFFICER = "safety_officer"
    INSPECTOR = "inspector"
    STREET_SUPERVISOR = "street_supervisor"
    DEPARTMENT_OFFICER = "department_officer"
    LEADER = "leader"
    AUDITOR = "auditor"
    ADMIN = "admin"
    # The engine itself, when a policy (deadline, escalation) acts.
    SYSTEM = "system"


class PlaceKind(str, Enum):
    ENTERPRISE = "enterprise"
    RENTAL_HOUSE = "rental_house"
    SMALL_VENUE = "small_venue"
    CROWDED_PLACE = "crowded_place"
    CONSTRUCTION_SITE = "construction_site"
    OTHER = "other"


class Category(str, Enum):
    FLYING_WIRE_CHARGING = "flying_wire_charging"
    BLOCKED_FIRE_EXIT = "blocked_fire_exit"
    FIRE_EQUIPMENT = "fire_equipment"
    ILLEGAL_WIRING = "illegal_wiring"
    FLAMMABLE_STORAGE = "flammable_storage"
    GAS_SAFETY = "gas_safety"
    MIXED_RESIDENTIAL_PRODUCTION = "mixed_residential_production"
    UNREPORTED_SMALL_WORKS = "unreported_small_works"
    OTHER = "other"


class Severity(str, Enum):
    GENERAL = "general"
    MAJOR = "major"


class PartyRole(str, Enum):
    OWNER = "owner"
    LANDLORD = "landlord"
    TENANT = "tenant"
    MANAGER = "manager"


class Department(str, Enum):
    FIRE = "fire"
    EMERGENCY_MANAGEMENT = "emergency_management"
    URBAN_MANAGEMENT = "urban_management"
    MARKET_REGULATION = "market_regulation"
    HOUSING = "housing"
    PUBLIC_SECURITY = "public_security"


class ClosingReason(str, Enum):
    RECTIFIED = "rectified"
    ENFORCED = "enforced"
    UNFOUNDED = "unfounded"
    DUPLICATE = "duplicate"


class EnforcementMeasure(str, Enum):
    WARNING = "warning"
    FINE = "fine"
    SEAL_UP = "seal_up"
    SUSPENSION = "suspension"


E = TypeVar("E", bound=Enum)


def parse_enum(enum: type[E], value: Any, what: str) -> E:
    """The member of ``enum`` named by ``value``, or a DomainError listing the choices."""
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        raise DomainError(f"unknown {what} {value!r}; expected one of: {choices}") from None


# C0 controls but tab, LF and CR; DEL and the C1 controls; the two XML non-characters; lone
# surrogates (not encodable as UTF-8). The HTTP and CLI edges refuse the same set.
UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def printable(value: str, what: str) -> str:
    """``value`` unless it holds a character the log must not keep (a DomainError names it).

    Text is kept for ever and shown in terminals and spreadsheets: a NUL cannot be stored
    in a PostgreSQL text column, an ESC acts on the terminal that shows it. Only commands
    check this; replaying stored events never does, so older text still loads.
    """
    found = UNPRINTABLE.search(value)
    if found is not None:
        char = found.group()
        kind = ("an unpaired surrogate" if "\ud800" <= char <= "\udfff"
                else "a non-character" if char in "\ufffe\uffff" else "a control character")
        raise DomainError(f"{what} contains U+{ord(char):04X}, {kind}: of those, only tab "
                          "and line breaks are allowed")
    return value


def optional_text(value: str | None, what: str) -> str:
    """Trimmed ``value``, which may be empty, with no character the log must not keep."""
    return printable((value or "").strip(), what)


def _require_text(value: str, what: str, limit: int = 500) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(f"{what} must not be empty")
    if len(value) > limit:
        raise DomainError(f"{what} is longer than {limit} characters")
    return value


def _require_printable_text(value: str, what: str, limit: int = 500) -> str:
    return printable(_require_text(value, what, limit), what)


@dataclass(frozen=True)
class Actor:
    """Who acted: always the authenticated caller, never a field the caller typed."""

    id: str
    role: Role
    unit: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", parse_enum(Role, self.role, "role"))
        _require_text(self.id, "actor id", 100)

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "role": self.role.value, "unit": self.unit}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Actor:
        return cls(id=data["id"], role=Role(data["role"]), unit=data["unit"])


SYSTEM_ACTOR = Actor(id="system", role=Role.SYSTEM, unit="system")


@dataclass(frozen=True)
class Place:
    """Where the hazard is. ``grid`` and ``community`` place it in the jurisdiction."""

    id: str
    name: str
    kind: PlaceKind
    address: str
    grid: str
    community: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", parse_enum(PlaceKind, self.kind, "place kind"))
        for what in ("id", "name", "grid", "community"):
            _require_printable_text(getattr(self, what), f"place {what}", 200)
        printable(self.address or "", "place address")

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "kind": self.kind.value}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Place:
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Party:
    """The responsible party (责任主体) who must rectify."""

    name: str
    role: PartyRole
    contact: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", parse_enum(PartyRole, self.role, "party role"))
        _require_printable_text(self.name, "party name", 200)
        printable(self.contact or "", "party contact")

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role.value, "contact": self.contact}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Party:
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Evidence:
    """A reference to a photo or document, by content hash; the bytes live elsewhere."""

    name: str
    media_type: str
    sha256: str
    size: int

    def __post_init__(self) -> None:
        _require_printable_text(self.name, "evidence name", 255)
        printable(self.media_type or "", "evidence media type")
        digest = self.sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise DomainError(f"evidence sha256 {self.sha256!r} is not 64 hex digits")
        object.__setattr__(self, "sha256", digest)
        if self.size < 0:
            raise DomainError("evidence size must not be negative")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(**data)


def require_text(value: str, what: str, limit: int = 2000) -> str:
    """Trimmed ``value``; a DomainError when it is blank, longer than ``limit`` or holds a
    character the log must not keep (``printable``)."""
    return _require_printable_text(value, what, limit)
