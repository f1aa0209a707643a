"""The rules file: the packaged default loads, and a bad file is refused by name."""

from __future__ import annotations

from datetime import date
from importlib import resources

import pytest

from api.settings import Settings
from api.wiring import open_cases
from workflows.policy import Policy
from workflows.rules import Duration, RulesError, load_rules, parse_duration, parse_rules

DEFAULT = resources.files("workflows").joinpath("default_rules.toml").read_text("utf-8")


def _with(old: str, new: str) -> bytes:
    assert old in DEFAULT, old
    return DEFAULT.replace(old, new, 1).encode()


def test_the_packaged_default_loads_with_a_versioned_digest():
    rules = load_rules()
    assert rules.model.version == "2026.2"
    assert rules.version.startswith("2026.2#") and len(rules.version) == len("2026.2#") + 8
    assert [lv.level.value for lv in rules.model.escalation.chain] == [
        "community_safety_office", "street_safety_office", "department"]


def test_an_edit_without_a_version_bump_still_changes_the_recorded_version():
    edited = parse_rules(_with('general = "7 working days"', 'general = "6 working days"'))
    assert edited.model.version == load_rules().model.version
    assert edited.version != load_rules().version


@pytest.mark.parametrize("text, days, working", [
    ("7 working days", 7, True), ("1 working day", 1, True), ("3 calendar days", 3, False),
    ("0 working days", 0, True),
])
def test_durations_are_read(text, days, working):
    duration = parse_duration(text)
    assert (duration.days, duration.working) == (days, working)


@pytest.mark.parametrize("content, named", [
    (_with('[deadlines]', '[deadlines]\ngenral = "7 working days"'), "deadlines.genral"),
    (_with('version = "2026.2"', 'version = "2026.2"\nescalate_everything = true'),
     "escalate_everything"),
    (_with('[reminders]', '[reminders]\nevery = "1 working day"'), "reminders.every"),
    (_with('general = "7 working days"', 'general = "7 workdays"'), "deadlines.general"),
    (_with('general = "7 working days"', 'general = "7 workdays"'), "7 workdays"),
    (_with('desk.\nwithin = "3 working days"', 'desk.\nwithin = "three days"'),
     "verification.within"),
    (_with('within = "3 working days"', 'within = "three days"'), "notice.within = 'three days'"),
    (_with('[notice]', '[notice]\nbefore = "1 working day"'), "notice.before"),
    (_with('decide_within = "30 calendar days"', 'decide_within = "a month"'),
     "escalation.decide_within = 'a month'"),
    (_with('decide_within = "30 calendar days"', 'decide_in = "30 calendar days"'),
     "escalation.decide_in"),
    (_with('blocked_fire_exit = "1 working day"', 'blocked_fire_exit = "0 working days"'),
     "deadlines.category.blocked_fire_exit"),
    (_with('gas_safety = "urban_management"', 'gas_safety = "police"'),
     "routing.category.gas_safety"),
    (_with('gas_safety = "urban_management"', 'gas_safety = "police"'), "'police'"),
    (_with('flammable_storage = "market_regulation"', 'flammable_storage = "firemen"'),
     "routing.place_kind.small_venue.flammable_storage"),
    (_with('gas_safety = "urban_management"', 'gas = "urban_management"'),
     "routing.category.gas"),
    (_with('level = "street_safety_office"', 'level = "district_office"'), "district_office"),
    (_with('accept_within = "3 working days"', 'accept_within = "3 weeks"'), "3 weeks"),
    (_with('holidays = []', 'holidays = ["2027-02-30"]'), "calendar.holidays"),
    (_with('version = "2026.2"', ''), "missing key 'version'"),
    # a day listed as both a holiday and a make-up working day: which did the file mean?
    (_with('holidays = []\nworkdays = []', 'holidays = ["2027-01-01"]\nworkdays = ["2027-01-01"]'),
     "calendar: 2027-01-01 is listed under both holidays and workdays"),
    # the version starts every rule recorded on an event, kept for ever
    (_with('version = "2026.2"', 'version = "2026.2\\u001b[31m"'),
     "version = '2026.2\\x1b[31m': U+001B is a control character"),
    # TOML has booleans; "no" must not quietly read as true
    (_with('escalate_at_once = true', 'escalate_at_once = "no"'),
     "major_hazard.escalate_at_once = 'no': Input should be a valid boolean"),
    (_with('periods_end_on_working_day = true', 'periods_end_on_working_day = "yes"'),
     "calendar.calendar_day_periods_end_on_working_day = 'yes': Input should be a valid boolean"),
    (b"version = [", "not valid TOML"),
])
def test_a_bad_rules_file_is_refused_with_the_key_and_value_named(content, named):
    with pytest.raises(RulesError) as refused:
        parse_rules(content, "site-rules.toml")
    assert "site-rules.toml" in str(refused.value)
    assert named in str(refused.value)


def test_a_rules_file_saved_with_a_byte_order_mark_is_read():
    # Windows Notepad saves UTF-8 with a BOM; it was refused as "Invalid statement (at line
    # 1, column 1)" on a file that looks perfectly valid.
    rules = parse_rules(b"\xef\xbb\xbf" + DEFAULT.encode(), "notepad.toml")
    assert rules.model == load_rules().model

def test_every_category_must_be_routed():
    with pytest.raises(RulesError, match="no department for categories gas_safety"):
        parse_rules(_with('gas_safety = "urban_management"\n', ""))


def test_a_bad_rules_file_in_settings_stops_start_up(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_bytes(_with('gas_safety = "urban_management"', 'gas_safety = "police"'))
    settings = Settings(sqlite_path=tmp_path / "h.db", rules_file=path)
    with pytest.raises(RulesError, match="routing.category.gas_safety = 'police'"):
        open_cases(settings)
    assert not (tmp_path / "h.db").exists()


def test_a_missing_rules_file_is_named(tmp_path):
    with pytest.raises(RulesError, match="nowhere.toml: cannot read it"):
        load_rules(tmp_path / "nowhere.toml")


def test_the_rules_file_in_settings_is_the_one_used(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_bytes(_with('version = "2026.2"', 'version = "site-7"').replace(
        b'gas_safety = "urban_management"', b'gas_safety = "fire"'))
    cases = open_cases(Settings(sqlite_path=tmp_path / "h.db", rules_file=path))
    try:
        assert cases.policy.version.startswith("site-7#")
        department, rule = cases.policy.route("gas_safety", "rental_house")
        assert department.value == "fire"
        assert rule.startswith("rules site-7#") and "routing.category.gas_safety" in rule
    finally:
        cases.shutdown()


def test_routing_by_place_kind_overrides_the_category():
    policy = Policy()
    assert policy.route("flammable_storage", "small_venue")[0].value == "market_regulation"
    assert policy.route("flammable_storage", "rental_house")[0].value == "emergency_management"


def test_a_category_deadline_applies_to_general_hazards_only():
    policy = Policy()
    monday = date(2026, 3, 2)
    assert policy.rectification_deadline("general", "blocked_fire_exit", "enterprise",
                                         monday)[0] == date(2026, 3, 3)
    day, rule = policy.rectification_deadline("major", "blocked_fire_exit", "enterprise", monday)
    assert day == date(2026, 3, 5)
    assert "deadlines.major = 3 working days" in rule


def test_the_notice_and_decision_windows_default_and_can_be_changed():
    rules = load_rules().model
    assert (rules.notice.within, rules.escalation.decide_within) == (
        Duration(3, working=True), Duration(30, working=False))
    older = parse_rules(_with('within = "3 working days"\n', "").replace(
        b"[notice]", b"").replace(b'decide_within = "30 calendar days"\n', b""))
    assert older.model.notice == rules.notice  # a file from before these were rules
    assert older.model.escalation.decide_within == rules.escalation.decide_within
    site = Policy(parse_rules(_with('within = "3 working days"', 'within = "1 working day"')
                              .replace(b'"30 calendar days"', b'"10 working days"')))
    friday = date(2026, 3, 6)
    day, rule = site.notice_due(friday)
    assert day == date(2026, 3, 9) and "notice.within = 1 working day after 2026-03-06" in rule
    day, rule = site.decision_due(friday)
    assert day == date(2026, 3, 20) and "escalation.decide_within = 10 working days" in rule


def test_a_notice_window_skips_the_spring_festival_and_counts_its_make_up_day():
    # Thursday 12 February 2026: Friday 13 and Saturday 14 (a make-up working day) count,
    # 15-23 February are the holiday, Tuesday 24 is the third working day.
    assert Policy().notice_due(date(2026, 2, 12))[0] == date(2026, 2, 24)
    # 30 calendar days end on Saturday 14 March, so on Monday 16 (calendar.calendar_day_
    # periods_end_on_working_day)
    assert Policy().decision_due(date(2026, 2, 12))[0] == date(2026, 3, 16)


def test_rules_check_from_the_command_line(tmp_path, monkeypatch, capsys):
    import sys

    from api.cli import context
    from api.cli.main import run

    def hazardflow(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["hazardflow", *args])
        try:
            run()
            code = 0
        except SystemExit as exit_:
            code = int(exit_.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    monkeypatch.delenv("HAZARDFLOW_RULES_FILE", raising=False)
    context.settings.cache_clear()
    code, out, _ = hazardflow("rules", "check")
    assert code == 0 and f"rules {load_rules().version} are valid" in out
    assert "escalation chain: community_safety_office (2 working days) ->" in out
    assert "notice within 3 working days of a report" in out
    assert "the department decides within 30 calendar days of accepting" in out
    assert ("a period in calendar days ending on a weekend or holiday ends on the next working "
            "day (calendar.calendar_day_periods_end_on_working_day = true)") in out
    older = tmp_path / "older.toml"
    older.write_bytes(_with("calendar_day_periods_end_on_working_day = true", ""))
    code, out, _ = hazardflow("rules", "check", str(older))
    assert code == 0 and ("ends on that day "
                          "(calendar.calendar_day_periods_end_on_working_day = false)") in out
    bad = tmp_path / "bad.toml"
    bad.write_bytes(_with('unreported_small_works = "housing"', 'unreported_small_works = "x"'))
    code, _, err = hazardflow("rules", "check", str(bad))
    assert code == 2
    assert "error: rules file" in err and "routing.category.unreported_small_works = 'x'" in err
    context.settings.cache_clear()


def test_an_escalation_at_a_level_the_rules_no_longer_list_never_climbs_down():
    # Rules edited under a pending escalation: the chain lost its top level. A case already
    # at the department's level stays there; one at a dropped lower level goes to the top.
    department = ('[[escalation.chain]]\nlevel = "department"             '
                  '   # the routed department\'s own leadership\naccept_within = "3 working days"\n')
    two_levels = Policy(parse_rules(_with(department, "")))
    assert [lv.level.value for lv in two_levels.chain] == [
        "community_safety_office", "street_safety_office"]
    assert two_levels.next_level("department") is None
    assert two_levels.next_level("community_safety_office").value == "street_safety_office"
    no_street = Policy(parse_rules(_with('[[escalation.chain]]\nlevel = "street_safety_office"'
                                         '      # 街道安监办\naccept_within = "2 working days"\n',
                                         "")))
    assert no_street.next_level("street_safety_office").value == "department"
