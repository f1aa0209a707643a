"""Default rectification deadlines (整改期限).

A notice without an explicit deadline gets one from here, and the event records which
rule produced it, so a historical report explains itself with the rules then in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from domain.values import Category, Severity


@dataclass(frozen=True)
class DeadlinePolicy:
    """Calendar days to rectify, by severity, with per-category overrides."""

    version: str = "builtin-1"
    days_by_severity: dict[str, int] = field(
        default_factory=lambda: {Severity.GENERAL.value: 7, Severity.MAJOR.value: 3}
    )
    days_by_category: dict[str, int] = field(
        default_factory=lambda: {Category.BLOCKED_FIRE_EXIT.value: 1}
    )

    def rectification_deadline(
        self, severity: str, category: str, place_kind: str, notice_day: date
    ) -> tuple[date, str]:
        """The deadline for a notice issued on ``notice_day``, and the rule applied."""
        if category in self.days_by_category:
            days, basis = self.days_by_category[category], f"category {category}"
        else:
            days, basis = self.days_by_severity[severity], f"severity {severity}"
        return notice_day + timedelta(days=days), f"policy {self.version}: {basis}, {days} days"
