"""The policy: decisions taken from the rules file on the working-day calendar.

Every decision comes back with the rule text recorded on its event, and the text begins
with the rules version (``rules 2026.1#ab12cd34: ...``), so a historical report explains
itself with the rules then in force.
"""

from __future__ import annotations

from datetime import date, timedelta

from domain.values import Category, Department, Severity, parse_enum
from workflows.calendar import WorkingCalendar
from workflows.routing import route
from workflows.rules import MOVE_KEY, Duration, EscalationLevel, Level, Rules, load_rules


class Policy:
    """Deadlines, routing and escalation limits, from validated ``Rules``."""

    def __init__(self, rules: Rules | None = None, calendar: WorkingCalendar | None = None):
        self.rules = rules or load_rules()
        model = self.rules.model
        self.calendar = calendar or WorkingCalendar(model.calendar.holidays,
                                                    model.calendar.workdays)

    @property
    def version(self) -> str:
        return self.rules.version

    def rule(self, text: str) -> str:
        return f"rules {self.version}: {text}"

    def _moves(self, span: Duration) -> bool:
        """Whether a period of ``span`` that ends on a rest day ends on the next working day
        instead (民法典 第二百零三条). A period of working days ends on a working day, except
        one of 0 working days (the same day) started on a rest day: it moves too."""
        return ((not span.working or span.days == 0)
                and self.rules.model.calendar.calendar_day_periods_end_on_working_day)

    def _after(self, start: date, span: Duration, key: str) -> tuple[date, str]:
        last = self.calendar.add(start, span)
        end = self.calendar.on_or_after(last) if self._moves(span) else last
        text = f"{key} = {span} after {start.isoformat()}"
        if end != last:
            text += (f"; {last.isoformat()} is not a working day: it ends on the next working "
                     f"day, {end.isoformat()} ({MOVE_KEY})")
        return end, self.rule(text + self.calendar.fallback_note(start, end))

    def started_before(self, today: date, span: Duration) -> date:
        """The day before which a period of ``span`` must have started to have ended before
        ``today`` (the inverse of the due days above, for finding due cases exactly)."""
        if self._moves(span):
            # A moved period ends on a working day: it ended before today exactly when it
            # ended by the last working day before today.
            today = self.calendar.on_or_before(today - timedelta(days=1)) + timedelta(days=1)
        return self.calendar.subtract(today, span)

    # -- deadlines ------------------------------------------------------------------------

    def notice_due(self, found_day: date) -> tuple[date, str]:
        """The last day to issue the rectification notice for a hazard found on ``found_day``."""
        return self._after(found_day, self.rules.model.notice.within, "notice.within")

    def rectification_deadline(
        self, severity: str, category: str, place_kind: str, notice_day: date
    ) -> tuple[date, str]:
        """The deadline for a notice issued on ``notice_day``, and the rule applied.

        A category's own deadline applies to general hazards; a major hazard always gets
        the (usually shorter) deadline for major hazards.
        """
        severity_ = parse_enum(Severity, severity, "severity")
        category_ = parse_enum(Category, category, "category")
        deadlines = self.rules.model.deadlines
        if severity_ is Severity.GENERAL and category_ in deadlines.category:
            span, key = deadlines.category[category_], f"deadlines.category.{category_.value}"
        else:
            span, key = deadlines.for_severity(severity_), f"deadlines.{severity_.value}"
        return self._after(notice_day, span, key)

    def reminder_day(self, deadline: date) -> date | None:
        """The day a reminder of ``deadline`` falls due, or None when reminders are off."""
        lead = self.rules.model.reminders.before_deadline
        if lead.days == 0:
            return None
        return self.calendar.subtract(deadline, lead)

    def reminder_rule(self, deadline: date) -> str:
        """The rule of the reminder of ``deadline`` (noting a year counted by the fallback)."""
        lead = self.rules.model.reminders.before_deadline
        remind = self.reminder_day(deadline)
        note = "" if remind is None else self.calendar.fallback_note(remind, deadline)
        return self.rule(f"reminders.before_deadline = {lead}{note}")

    def verification_due(self, submitted_day: date) -> tuple[date, str]:
        """The last day to re-inspect a rectification submitted on ``submitted_day``."""
        return self._after(submitted_day, self.rules.model.verification.within,
                           "verification.within")

    def escalates_at_once(self, severity: str) -> bool:
        return (severity == Severity.MAJOR.value
                and self.rules.model.major_hazard.escalate_at_once)

    def supervised_listing(self, severity: str) -> bool:
        return (severity == Severity.MAJOR.value
                and self.rules.model.major_hazard.supervised_listing)

    # -- routing and escalation -----------------------------------------------------------

    def route(self, category: str, place_kind: str) -> tuple[Department, str]:
        """The department for a hazard, and the rule that chose it."""
        department, key = route(self.rules.model.routing, category, place_kind)
        return department, self.rule(key)

    @property
    def chain(self) -> list[Level]:
        return self.rules.model.escalation.chain

    def first_level(self) -> EscalationLevel:
        return self.chain[0].level

    def next_level(self, level: str) -> EscalationLevel | None:
        """The level above ``level``, or None at the top (or above the top, for a level the
        rules no longer list)."""
        names = [lv.level.value for lv in self.chain]
        if level not in names:
            # The rules changed under a pending escalation: go to the top, unless the case
            # is already above it (the chain lost its higher levels): never climb down.
            top, ranks = self.chain[-1].level, [lv.value for lv in EscalationLevel]
            if level in ranks and ranks.index(level) >= ranks.index(top.value):
                return None
            return top
        index = names.index(level)
        return self.chain[index + 1].level if index + 1 < len(names) else None

    def decision_due(self, accepted_day: date) -> tuple[date, str]:
        """The last day for the department's decision on an escalation accepted that day."""
        return self._after(accepted_day, self.rules.model.escalation.decide_within,
                           "escalation.decide_within")

    def acceptance_due(self, level: str, since_day: date) -> tuple[date, str]:
        """The last day the escalation may stay unaccepted at ``level``."""
        by_name = {lv.level.value: lv for lv in self.chain}
        entry = by_name.get(level, self.chain[-1])
        return self._after(since_day, entry.accept_within,
                           f"escalation.chain[{entry.level.value}].accept_within")

