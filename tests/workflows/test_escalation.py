"""The deadline and escalation tick, on a fake clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from importlib import resources

import pytest

from domain.case import HazardCase
from domain.errors import DomainError
from domain.timeutil import LOCAL_TZ
from domain.values import SYSTEM_ACTOR
from projections.due import StoreDueIndex
from projections.escalations import EscalationsFilter
from projections.reports import read
from tests import factories as f
from workflows.escalation import EscalationTick, TickReport
from workflows.policy import Policy
from workflows.rules import parse_rules

DEFAULT_RULES = resources.files("workflows").joinpath("default_rules.toml").read_text("utf-8")


def tick(cases) -> TickReport:
    return EscalationTick(cases, StoreDueIndex(cases)).run()


def at(clock, day: str, hour: int = 9) -> None:
    """Move the fake clock to ``hour`` o'clock China time on ``day``."""
    clock.set(datetime.fromisoformat(f"{day}T{hour:02d}:00").replace(tzinfo=LOCAL_TZ))


def kinds(cases, case_id) -> list[str]:
    return [type(e).__name__ for e in cases.history(case_id)]


def notified(cases, n: int = 1, category: str = "gas_safety", **kw):
    """A case notified on Monday 2026-03-02 with the policy's deadline."""
    case_id = f.report(cases, n, category=category, **kw)
    cases.notify(case_id, f.safety_officer, party=f.landlord)
    return case_id


def test_a_notified_case_past_its_deadline_is_escalated_to_its_routed_department(cases, clock):
    case_id = notified(cases, category="gas_safety")  # general: 7 working days -> 11 March
    assert cases.get_case(case_id).deadline == "2026-03-11"
    at(clock, "2026-03-11", 23)
    tick(cases)
    assert "CaseEscalated" not in kinds(cases, case_id)  # the deadline day is still met
    at(clock, "2026-03-12", 0)
    report = tick(cases)
    assert report.applied == {"escalate_overdue": 1}
    case = cases.get_case(case_id)
    assert case.state == "escalated" and case.department == "urban_management"
    *_, missed, escalated = cases.history(case_id)
    assert type(missed).__name__ == "DeadlineMissed" and missed.deadline == "2026-03-11"
    assert missed.due_at == "2026-03-11T16:00:00.000000+00:00"
    assert escalated.actor == SYSTEM_ACTOR.as_dict()
    assert escalated.department == "urban_management"
    assert "deadline 2026-03-11 passed" in escalated.reason
    assert escalated.rule.startswith(f"rules {cases.policy.version}: routing.category.gas_safety")
    assert missed.policy_version == cases.policy.version


def test_routing_by_place_kind_is_followed(cases, clock):
    case_id = notified(cases, category="gas_safety", kind="enterprise")
    at(clock, "2026-03-12")
    tick(cases)
    assert cases.get_case(case_id).department == "emergency_management"


def test_a_reminder_is_recorded_once_before_the_deadline(cases, clock):
    case_id = notified(cases, category="gas_safety")  # deadline Wed 11 March
    at(clock, "2026-03-09")
    tick(cases)
    assert "DeadlineReminded" not in kinds(cases, case_id)
    at(clock, "2026-03-10")  # one working day before
    tick(cases)
    tick(cases)
    assert kinds(cases, case_id).count("DeadlineReminded") == 1
    reminder = cases.history(case_id)[-1]
    assert reminder.deadline == "2026-03-11" and "reminders.before_deadline" in reminder.rule


def test_a_deadline_across_the_spring_festival_counts_holidays_and_make_up_days(cases, clock):
    at(clock, "2026-02-12")
    case_id = notified(cases, category="gas_safety")
    notice = cases.history(case_id)[-1]
    assert notice.deadline == "2026-02-28"  # Sat 28 Feb is a make-up working day
    assert notice.rule.startswith(f"rules {cases.policy.version}: deadlines.general = "
                                  "7 working days after 2026-02-12")
    at(clock, "2026-02-28", 20)
    tick(cases)
    assert cases.get_case(case_id).state == "notified"
    at(clock, "2026-03-01")
    tick(cases)
    assert cases.get_case(case_id).state == "escalated"


def test_a_blocked_fire_exit_over_national_day_is_due_the_next_working_day(cases, clock):
    at(clock, "2026-09-30")
    case_id = notified(cases, category="blocked_fire_exit")
    assert cases.get_case(case_id).deadline == "2026-10-08"
    at(clock, "2026-10-08", 22)
    tick(cases)
    assert cases.get_case(case_id).state == "notified"


def test_a_major_hazard_escalates_at_once_under_supervised_listing(cases, clock):
    case_id = f.report(cases, severity="major", category="flammable_storage",
                       kind="small_venue")
    report = tick(cases)
    assert report.applied["escalate_at_once"] == 1
    case = cases.get_case(case_id)
    assert case.state == "escalated" and case.department == "market_regulation"
    assert case.supervised
    assert kinds(cases, case_id)[-2:] == ["CaseEscalated", "SupervisedListingImposed"]
    escalated = cases.history(case_id)[-2]
    assert "major_hazard.escalate_at_once" in escalated.reason
    assert tick(cases).applied == {}


def test_a_refused_major_hazard_is_listed_and_not_escalated_twice(cases, clock):
    case_id = f.to_escalated(cases, severity="major", accepted=False)
    tick(cases)
    assert kinds(cases, case_id).count("SupervisedListingImposed") == 1
    assert kinds(cases, case_id).count("CaseEscalated") == 0


def test_an_unaccepted_escalation_climbs_one_level_after_its_limit(cases, clock):
    case_id = f.to_escalated(cases, accepted=False)  # refused on Monday 2 March
    at(clock, "2026-03-04", 23)  # community safety office: 2 working days, until Wed
    tick(cases)
    assert "EscalationLevelRaised" not in kinds(cases, case_id)
    at(clock, "2026-03-05")
    tick(cases)
    raised = cases.history(case_id)[-1]
    assert type(raised).__name__ == "EscalationLevelRaised"
    assert (raised.previous_level, raised.level) == ("community_safety_office",
                                                      "street_safety_office")
    assert raised.department == "fire" and raised.actor == SYSTEM_ACTOR.as_dict()
    assert "escalation.chain[community_safety_office].accept_within" in raised.reason
    at(clock, "2026-03-09")  # street office since Thu 5: 2 working days, until Mon 9
    tick(cases)
    assert kinds(cases, case_id).count("EscalationLevelRaised") == 1
    at(clock, "2026-03-10")
    tick(cases)
    assert cases.history(case_id)[-1].level == "department"
    at(clock, "2026-04-30")  # the top of the chain: it stays, overdue on the board
    tick(cases)
    assert kinds(cases, case_id).count("EscalationLevelRaised") == 2


STREET_LEVEL = ('[[escalation.chain]]\nlevel = "street_safety_office"      # 街道安监办\n'
                'accept_within = "2 working days"\n')


def _climbed_to_street_then_street_level_removed(cases, clock):
    case_id = f.to_escalated(cases, accepted=False)  # refused on Monday 2 March
    at(clock, "2026-03-05")
    tick(cases)
    assert cases.history(case_id)[-1].level == "street_safety_office"  # since Thu 5
    # The rules are edited while the case waits there: the street level is taken out.
    cases.policy = Policy(parse_rules(DEFAULT_RULES.replace(STREET_LEVEL, "", 1).encode()))
    assert "street_safety_office" not in [lv.level.value for lv in cases.policy.chain]
    return case_id


def test_an_escalation_at_a_level_the_rules_no_longer_list_climbs_by_its_recorded_day(
        cases, clock):
    case_id = _climbed_to_street_then_street_level_removed(cases, clock)
    assert cases.history(case_id)[-1].level_due == "2026-03-09"  # 2 working days from Thu 5
    _goes_to_the_top_after(cases, clock, case_id, "2026-03-09", "2026-03-10")


def test_a_climb_recorded_without_its_day_goes_to_the_top_after_the_tops_limit(
        cases, clock, monkeypatch):
    # A climb written before EscalationLevelRaised recorded level_due (class version 2).
    raise_level = HazardCase.raise_escalation_level
    monkeypatch.setattr(HazardCase, "raise_escalation_level",
                        lambda self, *args: raise_level(self, *args[:6]))
    case_id = _climbed_to_street_then_street_level_removed(cases, clock)
    assert cases.history(case_id)[-1].level_due is None
    # the top's limit, 3 working days from Thu 5, ends Tue 10
    _goes_to_the_top_after(cases, clock, case_id, "2026-03-10", "2026-03-11")


def _goes_to_the_top_after(cases, clock, case_id, last_day: str, next_day: str) -> None:
    at(clock, last_day, 23)
    tick(cases)
    assert kinds(cases, case_id).count("EscalationLevelRaised") == 1
    at(clock, next_day)  # the due index must offer the case, or it waits for ever
    tick(cases)
    raised = cases.history(case_id)[-1]
    assert (raised.previous_level, raised.level) == ("street_safety_office", "department")


def test_an_accepted_escalation_does_not_climb(cases, clock):
    case_id = f.to_escalated(cases, accepted=True)
    at(clock, "2026-03-20")
    tick(cases)
    assert "EscalationLevelRaised" not in kinds(cases, case_id)


def test_an_extension_granted_before_the_deadline_prevents_escalation(cases, clock):
    case_id = f.to_notified(cases)  # deadline Monday 9 March
    at(clock, "2026-03-06")
    cases.extend_deadline(case_id, f.street_supervisor, deadline=date(2026, 3, 20),
                          reason="需采购消防器材")
    at(clock, "2026-03-16")
    tick(cases)
    assert cases.get_case(case_id).state == "notified"
    assert "DeadlineMissed" not in kinds(cases, case_id)
    at(clock, "2026-03-21")
    tick(cases)
    assert cases.get_case(case_id).state == "escalated"
    assert [e.deadline for e in cases.history(case_id)
            if type(e).__name__ == "DeadlineMissed"] == ["2026-03-20"]


def test_closed_and_dismissed_cases_are_never_escalated(cases, clock):
    dismissed = f.to_notified(cases, 1)
    cases.dismiss(dismissed, f.safety_officer, closing_reason="unfounded", reason="误报")
    closed = f.to_awaiting_verification(cases, 2)
    cases.verify(closed, f.inspector, passed=True)
    major_closed = f.report(cases, 3, severity="major")
    cases.dismiss(major_closed, f.safety_officer, closing_reason="unfounded", reason="误报")
    at(clock, "2026-06-01")
    report = tick(cases)
    assert report.applied == {} and report.candidates == 0
    for case_id in (dismissed, closed, major_closed):
        assert cases.get_case(case_id).state == "closed"
        assert not {"DeadlineMissed", "CaseEscalated"} & set(kinds(cases, case_id))


def test_a_submitted_rectification_is_not_overdue_but_a_slow_inspection_is_flagged(cases, clock):
    case_id = f.to_awaiting_verification(cases)  # submitted Monday 2 March, deadline 9 March
    at(clock, "2026-03-05", 23)  # re-inspection within 3 working days: until Thu 5
    tick(cases)
    assert "VerificationOverdue" not in kinds(cases, case_id)
    at(clock, "2026-03-10")
    tick(cases)
    tick(cases)
    assert cases.get_case(case_id).state == "rectifying.awaiting_verification"
    flags = [e for e in cases.history(case_id) if type(e).__name__ == "VerificationOverdue"]
    assert len(flags) == 1
    assert (flags[0].desk, flags[0].unit, flags[0].due) == ("inspector", f.COMMUNITY,
                                                            "2026-03-05")
    # A failed verification sends it back past its deadline: then it is overdue.
    cases.verify(case_id, f.inspector, passed=False, reason="仍有飞线")
    tick(cases)
    assert cases.get_case(case_id).state == "escalated"


def test_a_person_cannot_run_the_engine_s_triggers(cases, clock):
    case_id = f.to_notified(cases)
    at(clock, "2026-03-12")
    with pytest.raises(DomainError):
        cases.miss_deadline(case_id, f.street_supervisor)
    with pytest.raises(DomainError, match="only the engine"):
        cases.escalate_at_once(case_id, f.safety_officer)


def test_an_action_no_longer_due_is_refused_inside_the_command(cases, clock):
    case_id = f.to_notified(cases)
    with pytest.raises(DomainError, match="not due"):
        cases.miss_deadline(case_id, SYSTEM_ACTOR)
    assert kinds(cases, case_id) == ["Reported", "NoticeIssued"]


def test_a_tick_s_commands_are_idempotent(cases, clock):
    case_id = f.to_notified(cases)
    at(clock, "2026-03-10")
    first = tick(cases)
    again = cases.escalate_overdue(case_id, SYSTEM_ACTOR, occurred_at=clock.now(),
                                   command_id=f"deadline-missed:{case_id}:1:2026-03-09")
    assert again.replayed
    assert first.applied["escalate_overdue"] == 1
    assert kinds(cases, case_id).count("DeadlineMissed") == 1


def test_a_missed_deadline_recorded_alone_is_escalated_by_the_next_tick(cases, clock):
    case_id = f.to_notified(cases)
    at(clock, "2026-03-10")
    cases.miss_deadline(case_id, SYSTEM_ACTOR)  # e.g. a tick that stopped half-way
    assert cases.get_case(case_id).state == "notified"
    assert tick(cases).applied == {"escalate_missed": 1}
    assert kinds(cases, case_id)[-2:] == ["DeadlineMissed", "CaseEscalated"]


def test_the_index_finds_only_what_is_due(cases, clock):
    due = f.to_notified(cases, 1)
    f.to_notified(cases, 2)
    f.to_rectifying(cases, 3)
    cases.extend_deadline(f.to_notified(cases, 4), f.street_supervisor,
                          deadline=date(2026, 4, 1), reason="延期")
    f.to_awaiting_verification(cases, 5)
    f.report(cases, 6)
    at(clock, "2026-03-05")  # reminders for Mon 9 March fall due on Fri 6 March
    assert tick(cases).candidates == 0
    at(clock, "2026-03-10")
    report = tick(cases)
    assert report.candidates == 4  # 1, 2, 3 overdue; 5's re-inspection is slow
    assert report.applied["escalate_overdue"] == 3
    assert report.applied["flag_verification_overdue"] == 1
    assert cases.get_case(due).state == "escalated"


def test_a_tick_after_a_long_pause_catches_up(cases, clock):
    ids = [f.to_notified(cases, n) for n in range(1, 4)]
    clock.advance(days=30)
    assert tick(cases).applied["escalate_overdue"] == 3
    assert all(cases.get_case(i).state == "escalated" for i in ids)


def test_the_worker_runs_the_tick_after_catching_up(cases, clock):
    from projections import all_projections
    from projections.runner import Runner
    from projections.worker import TICKS, work

    case_id = f.to_notified(cases)
    at(clock, "2026-03-10")
    assert any(getattr(t, "__name__", "") == "escalation_tick" for t in TICKS)
    work(cases, Runner(cases, all_projections()), rounds=1)
    assert cases.get_case(case_id).state == "escalated"


def test_an_extension_granted_after_the_deadline_day_but_before_the_tick_is_honoured(cases,
                                                                                     clock):
    case_id = f.to_notified(cases)  # deadline Monday 9 March
    at(clock, "2026-03-10", 8)  # the night's tick has not run yet
    cases.extend_deadline(case_id, f.street_supervisor, deadline=date(2026, 3, 16),
                          reason="材料已订购")
    tick(cases)
    assert cases.get_case(case_id).state == "notified"
    assert "DeadlineMissed" not in kinds(cases, case_id)


def test_a_flagged_re_inspection_shows_as_slow_action_in_the_accountability_view(cases, clock):
    from projections.accountability import AccountabilityFilter
    from projections.reports import read

    case_id = f.to_awaiting_verification(cases)
    at(clock, "2026-03-10")
    tick(cases)
    assert "VerificationOverdue" in kinds(cases, case_id)
    community = read(cases, "accountability",
                     AccountabilityFilter("community", f.COMMUNITY)).dicts()[0]
    assert (community["waiting"], community["slow"]) == (1, 1)  # the inspectors' desk


def test_a_past_instant_catches_up_a_missed_night_and_the_future_is_refused(cases, clock):
    case_id = f.to_notified(cases)  # deadline Monday 9 March
    at(clock, "2026-03-12", 15)
    night = datetime(2026, 3, 10, 2, tzinfo=LOCAL_TZ)
    EscalationTick(cases, StoreDueIndex(cases)).run(now=night)
    missed = cases.history(case_id)[-2]
    assert type(missed).__name__ == "DeadlineMissed"
    assert missed.occurred_at == "2026-03-09T18:00:00.000000+00:00"  # the night it was due
    assert missed.recorded_at == "2026-03-12T07:00:00.000000+00:00"  # when it was recorded
    # told in China time to the second, both instants (the system clock's is UTC with
    # microseconds, and was shown so)
    clock.set(datetime(2026, 3, 12, 7, 0, 0, 123456, tzinfo=UTC))
    with pytest.raises(DomainError, match=re.escape(
            "cannot run the tick at 2026-03-13T00:00:00+08:00: it is in the future "
            "(now 2026-03-12T15:00:00+08:00)")):
        EscalationTick(cases, StoreDueIndex(cases)).run(now=datetime(2026, 3, 13,
                                                                     tzinfo=LOCAL_TZ))


def test_the_same_action_decided_at_another_instant_counts_as_already_done(cases, clock):
    from workflows.deadlines import due_actions

    case_id = f.to_notified(cases)
    at(clock, "2026-03-10")
    stale = cases.get_case(case_id)
    [due] = due_actions(stale, cases.policy, clock.now())
    running = EscalationTick(cases, StoreDueIndex(cases))
    assert running.run().applied == {"escalate_overdue": 1}
    report = TickReport()
    running._run_action(stale, due, clock.now().replace(minute=5), report)  # a slower tick
    assert report.replayed == {"escalate_overdue": 1} and not report.applied
    assert kinds(cases, case_id).count("CaseEscalated") == 1


def test_escalate_due_on_a_store_it_cannot_reach_says_so_in_one_line(monkeypatch, capsys):
    # cron runs it; with the database down it printed a psycopg traceback (every command
    # did), which a mail from cron shows to whoever reads it, and exit status 1.
    import sys

    from api.cli import context
    from api.cli.main import run

    monkeypatch.setenv("HAZARDFLOW_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    monkeypatch.delenv("HAZARDFLOW_RULES_FILE", raising=False)
    context.settings.cache_clear()
    monkeypatch.setattr(sys, "argv", ["hazardflow", "escalate-due"])
    with pytest.raises(SystemExit) as exit_:
        run()
    context.settings.cache_clear()
    _, err = capsys.readouterr()
    assert exit_.value.code == 1
    assert err.startswith("error: cannot reach the store: connection failed: ")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("within", ["1 working day", "10 working days"])
def test_a_slow_reinspection_is_judged_by_the_due_day_its_submission_recorded(cases, clock,
                                                                               within):
    # The tick judged a re-inspection by the rules in force at the tick: after the office
    # shortened verification.within, a submission given until Thu 5 March was flagged slow
    # on Thu 5 (and after lengthening it, not on Fri 6), while accountability, judging by
    # the day recorded on the submission, said the opposite.
    case_id = f.to_awaiting_verification(cases)  # submitted Mon 2 March: due Thu 5
    submitted = cases.history(case_id)[-1]
    assert submitted.verify_due == "2026-03-05"
    block = '[verification]\n'
    text = DEFAULT_RULES.replace(block, block + "#\n", 1)  # the edit is the office's own
    old = text[text.index(block):]
    old = old[:old.index('within = "3 working days"') + len('within = "3 working days"')]
    cases.policy = Policy(parse_rules(text.replace(old, old.replace(
        '"3 working days"', f'"{within}"')).encode()))
    at(clock, "2026-03-05", 23)
    tick(cases)
    assert "VerificationOverdue" not in kinds(cases, case_id)
    at(clock, "2026-03-06")
    tick(cases)
    (flag,) = [e for e in cases.history(case_id) if type(e).__name__ == "VerificationOverdue"]
    assert (flag.due, flag.rule) == ("2026-03-05", submitted.rule)


@pytest.mark.parametrize("within", ["1 working day", "10 working days"])
def test_an_escalation_climbs_by_the_due_day_it_recorded(cases, clock, within):
    # As with re-inspections: the first level's limit was read from the rules at the tick,
    # while the escalation recorded accept_due (by which accountability judges the
    # department), so editing the chain moved a pending escalation's climb.
    case_id = f.to_escalated(cases, accepted=False)  # refused Mon 2 March: accept by Wed 4
    refused = cases.history(case_id)[-1]
    assert refused.accept_due == "2026-03-04"
    first = ('level = "community_safety_office"   # 社区安全办\n'
             'accept_within = "2 working days"')
    cases.policy = Policy(parse_rules(DEFAULT_RULES.replace(first, first.replace(
        "2 working days", within), 1).encode()))
    at(clock, "2026-03-04", 23)
    tick(cases)
    assert "EscalationLevelRaised" not in kinds(cases, case_id)
    (row,) = read(cases, "escalations", EscalationsFilter(policy=cases.policy)).dicts()
    assert (row["accept_by"], row["acceptance_overdue"]) == (date(2026, 3, 4), False)  # board
    at(clock, "2026-03-05")
    tick(cases)
    raised = cases.history(case_id)[-1]
    assert (type(raised).__name__, raised.due, raised.rule) == (
        "EscalationLevelRaised", "2026-03-04", f"not accepted in time: {refused.accept_rule}")
    # the next level's limit is recorded on the climb (2 working days from Thu 5, to Mon 9)
    # and is not moved by a later edit of that level either
    assert raised.level_due == "2026-03-09"
    cases.policy = Policy(parse_rules(DEFAULT_RULES.replace(STREET_LEVEL, STREET_LEVEL.replace(
        "2 working days", within), 1).encode()))
    (row,) = read(cases, "escalations", EscalationsFilter(policy=cases.policy)).dicts()
    assert (row["level"], row["accept_by"]) == ("street_safety_office", date(2026, 3, 9))
    at(clock, "2026-03-09", 23)
    tick(cases)
    assert kinds(cases, case_id).count("EscalationLevelRaised") == 1
    at(clock, "2026-03-10")
    tick(cases)
    assert kinds(cases, case_id).count("EscalationLevelRaised") == 2


def test_every_candidate_is_accounted_for_in_the_summary(cases, clock):
    # Two ticks at once: a candidate the other tick escalated between the index's answer
    # and the load was counted nowhere ("202 candidates; applied 101; already done 45; no
    # longer due: none"): an operator reading cron's mail would think cases were dropped.
    from workflows.deadlines import Horizons

    for n in (1, 2):
        f.to_notified(cases, n)
    at(clock, "2026-03-10")
    index = StoreDueIndex(cases)
    index.refresh()
    found = index.candidates(Horizons.of(cases.policy, clock.now()))
    assert len(found) == 2 and tick(cases).applied["escalate_overdue"] == 2  # the other tick

    class AsAnsweredBefore:
        def refresh(self) -> None:
            pass

        def candidates(self, horizons):  # type: ignore[no-untyped-def]
            return found

    report = EscalationTick(cases, AsAnsweredBefore()).run()
    assert (report.candidates, report.settled, sum(report.applied.values())) == (2, 2, 0)
    assert report.summary().endswith("; nothing due once loaded: 2 case(s)")
