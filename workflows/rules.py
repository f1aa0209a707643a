"""The rules file: deadlines, calendar additions, routing and the escalation chain.

The rules are TOML (a documented default, ``workflows/default_rules.toml``, ships in the
package; ``HAZARDFLOW_RULES_FILE`` points at another). They are checked once, at start-up:
an unknown key, a bad duration, an unknown category or department stops hazardflow with a
``RulesError`` naming the key and the value, instead of failing on the first case it touches.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.values import Category, Department, PlaceKind, Severity

DEFAULT_RULES = "default_rules.toml"
# The key that ends a period counted in calendar days on a working day (CalendarAdditions).
MOVE_KEY = "calendar.calendar_day_periods_end_on_working_day"


class RulesError(ValueError):
    """The rules file cannot be used; the message names the file, the key and the value."""


@dataclass(frozen=True)
class Duration:
    """A span of days, counted on the working-day calendar or the plain calendar."""

    days: int
    working: bool

    def __str__(self) -> str:
        kind = "working" if self.working else "calendar"
        return f"{self.days} {kind} day{'' if self.days == 1 else 's'}"


_DURATION = re.compile(r"^\s*(\d{1,3})\s+(working|calendar)\s+days?\s*$")


def parse_duration(value: Any) -> Duration:
    """``"7 working days"`` / ``"1 calendar day"`` -> Duration; anything else is refused."""
    if isinstance(value, Duration):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f"{value!r} is not a duration; write e.g. \"7 working days\" or \"3 calendar days\""
        )
    return Duration(int(match.group(1)), match.group(2) == "working")


def _at_least_a_day(duration: Duration) -> Duration:
    if duration.days < 1:
        raise ValueError(f"a rectification deadline of {duration} leaves no time")
    return duration


DurationField = Annotated[Duration, BeforeValidator(parse_duration)]
DeadlineField = Annotated[Duration, BeforeValidator(parse_duration),
                          AfterValidator(_at_least_a_day)]


class EscalationLevel(str, Enum):
    """Who is answerable, level by level, for getting an escalation accepted."""

    COMMUNITY_SAFETY_OFFICE = "community_safety_office"
    STREET_SAFETY_OFFICE = "street_safety_office"
    DEPARTMENT = "department"


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Deadlines(_Table):
    general: DeadlineField
    major: DeadlineField
    category: dict[Category, DeadlineField] = Field(default_factory=dict)

    def for_severity(self, severity: Severity) -> Duration:
        return getattr(self, severity.value)


class MajorHazard(_Table):
    # Strict: TOML has booleans, and a lax "no" or "off" would read as true.
    escalate_at_once: StrictBool = True
    supervised_listing: StrictBool = True


class Notice(_Table):
    # The packaged default, for a rules file written before the notice window was a rule.
    within: DurationField = Duration(3, working=True)


class Verification(_Table):
    within: DurationField


class Reminders(_Table):
    before_deadline: DurationField


class Routing(_Table):
    category: dict[Category, Department]
    place_kind: dict[PlaceKind, dict[Category, Department]] = Field(default_factory=dict)

    @field_validator("category")
    @classmethod
    def _every_category_routed(cls, value: dict[Category, Department]) -> Any:
        missing = [c.value for c in Category if c not in value]
        if missing:
            raise ValueError(f"no department for categories {', '.join(missing)}")
        return value


class Level(_Table):
    level: EscalationLevel
    accept_within: DurationField


class Escalation(_Table):
    chain: list[Level] = Field(min_length=1)
    # The packaged default, for a rules file written before the decision window was a rule.
    decide_within: DurationField = Duration(30, working=False)

    @field_validator("chain")
    @classmethod
    def _each_level_once(cls, value: list[Level]) -> list[Level]:
        names = [level.level.value for level in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"level {', '.join(twice)} appears more than once")
        return value


class CalendarAdditions(_Table):
    holidays: list[date] = Field(default_factory=list)
    workdays: list[date] = Field(default_factory=list)
    # 民法典 第二百零三条: a period whose last day is a rest day ends on the next working day.
    # Off when absent, so a rules file written before this key keeps its meaning.
    calendar_day_periods_end_on_working_day: StrictBool = False

    @model_validator(mode="after")
    def _each_day_one_kind(self) -> CalendarAdditions:
        both = sorted(set(self.holidays) & set(self.workdays))
        if both:
            days = ", ".join(d.isoformat() for d in both)
            raise ValueError(f"{days} {'is' if len(both) == 1 else 'are'} listed under both "
                             "holidays and workdays")
        return self


class RulesModel(_Table):
    version: str = Field(min_length=1, max_length=50)
    notice: Notice = Notice()
    deadlines: Deadlines
    major_hazard: MajorHazard = MajorHazard()
    verification: Verification
    reminders: Reminders
    routing: Routing
    escalation: Escalation
    calendar: CalendarAdditions = CalendarAdditions()

    @field_validator("version")
    @classmethod
    def _printable_version(cls, value: str) -> str:
        # It starts every rule recorded on an event, kept (and shown) for ever.
        bad = next((c for c in value if c < " " or "\x7f" <= c <= "\x9f"), None)
        if bad is not None:
            raise ValueError(f"U+{ord(bad):04X} is a control character")
        return value


@dataclass(frozen=True)
class Rules:
    """Validated rules, where they came from, and the version events record."""

    model: RulesModel
    source: str
    digest: str

    @property
    def version(self) -> str:
        """The declared version plus a digest of the file, so an unbumped edit still shows."""
        return f"{self.model.version}#{self.digest[:8]}"


def load_rules(path: Path | str | None = None) -> Rules:
    """The rules in ``path``, or the packaged default; RulesError when they are unusable."""
    if path is None:
        source = f"packaged {DEFAULT_RULES}"
        data = resources.files("workflows").joinpath(DEFAULT_RULES).read_bytes()
    else:
        source = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as error:
            raise RulesError(f"rules file {source}: cannot read it ({error.strerror})") from None
    return parse_rules(data, source)


def parse_rules(data: bytes, source: str = "rules") -> Rules:
    try:
        raw = tomllib.loads(data.decode("utf-8-sig"))  # Notepad writes a BOM
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RulesError(f"rules file {source}: not valid TOML ({error})") from None
    try:
        model = RulesModel.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(_describe(e) for e in error.errors())
        raise RulesError(f"rules file {source}: {problems}") from None
    return Rules(model, source, hashlib.sha256(data).hexdigest())


def _describe(error: Any) -> str:
    """One validation error as ``key = value: what is wrong``, in the file's own terms."""
    loc = [str(p) for p in error["loc"] if p != "[key]"]
    if error["loc"] and error["loc"][-1] == "[key]":
        return f"unknown key {'.'.join(loc)!r}: {error['msg']}"
    key = ".".join(loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        return f"unknown key {key!r} (value {error['input']!r})"
    if error["type"] == "missing":
        return f"missing key {key!r}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "enum":
        what = "department" if loc[0] == "routing" else "value"
        message = f"unknown {what}; expected {error['ctx']['expected']}"
    value = error.get("input")
    if isinstance(value, (dict, list)):
        return f"{key}: {message}"
    return f"{key} = {value!r}: {message}"
