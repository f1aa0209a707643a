"""Account administration on each store: moving an account to another role or unit, and
listing every account (``hazardflow users change`` and ``users list``)."""

from __future__ import annotations

from typing import Any

import pytest

import api.accounts
from api.accounts import REGISTERED_TOPIC, Accounts, account_id
from api.deps import TokenCache
from domain.errors import DomainError
from tests import factories as f

OTHER_GRID = "YS-C01-G02"


def test_a_changed_account_keeps_its_name_and_token_and_acts_in_its_new_unit(cases: Any
                                                                             ) -> None:
    accounts = Accounts(cases)
    token = accounts.add("gw-move", "grid_worker", f.GRID)
    accounts.change("gw-move", unit=OTHER_GRID)
    actor = accounts.authenticate(token)
    assert (actor.id, actor.role.value, actor.unit) == ("gw-move", "grid_worker", OTHER_GRID)
    accounts.change("gw-move", role="volunteer")  # the unit stays when only the role changes
    assert accounts.authenticate(token).role.value == "volunteer"
    assert accounts.authenticate(token).unit == OTHER_GRID


def test_events_recorded_before_a_change_keep_the_role_and_unit_they_carry(cases: Any
                                                                          ) -> None:
    accounts = Accounts(cases)
    token = accounts.add("gw-move", "grid_worker", f.GRID)
    case_id = cases.report(accounts.authenticate(token), place=f.place(1),
                           category="flying_wire_charging", severity="general",
                           description="楼道飞线充电").case_id
    accounts.change("gw-move", role="safety_officer", unit=f.COMMUNITY)
    cases.comment(case_id, accounts.authenticate(token), text="moved to the community")
    before, after = (e.actor for e in cases.history(case_id))
    assert before == {"id": "gw-move", "role": "grid_worker", "unit": f.GRID}
    assert after == {"id": "gw-move", "role": "safety_officer", "unit": f.COMMUNITY}


@pytest.mark.parametrize(("change", "message"), [
    ({}, "a change needs a new role, a new unit or both"),
    ({"role": "system"}, "the system actor is not an account"),
    ({"role": "mayor"}, "unknown role 'mayor'"),
    ({"role": "safety_officer"}, "a safety_officer's unit is a community id"),
    ({"unit": "YS-C01"}, "a grid_worker's unit is a grid id"),
    ({"unit": " "}, "unit"),
    ({"unit": f.GRID}, "the account 'gw-stay' is already grid_worker in YS-C01-G01"),
    ({"unit": "ys-c01-g02"}, "'ys-c01' is written 'YS-C01' by the accounts that hold it: "
                             "units are matched exactly, so write 'YS-C01'"),
    ({"unit": "YS-C01-网格7"}, "a grid_worker's unit is a grid id like 'YS-C01-G01', not "
                              "'YS-C01-网格7'"),
])
def test_a_change_is_checked_like_a_new_account_and_a_refused_one_records_nothing(
        cases: Any, change: dict[str, str], message: str) -> None:
    accounts = Accounts(cases)
    token = accounts.add("gw-stay", "grid_worker", f.GRID)
    with pytest.raises(DomainError, match=message):
        accounts.change("gw-stay", **change)
    assert accounts.get("gw-stay").version == 1
    assert accounts.authenticate(token).unit == f.GRID
    with pytest.raises(DomainError, match="no account named 'nobody'"):
        accounts.change("nobody", unit=f.GRID)


def test_a_unit_written_otherwise_in_letter_case_is_refused(cases: Any) -> None:
    # A grid worker added in ys-c01-g01, where the officers hold YS-C01, filed cases in a
    # community 'ys-c01' that no officer, supervisor or admin could see or act on.
    accounts = Accounts(cases)
    accounts.add("so-1", "safety_officer", f.COMMUNITY)
    with pytest.raises(DomainError, match="^'ys-c01' is written 'YS-C01' by the accounts "):
        accounts.add("gw-lower", "grid_worker", "ys-c01-g01")
    with pytest.raises(DomainError, match="^'ys' is written 'YS' by the accounts "):
        accounts.add("admin-lower", "admin", "ys")
    with pytest.raises(DomainError, match="an admin's unit is a street id like 'YS', not 'Y S'"):
        accounts.add("admin-space", "admin", "Y S")
    assert accounts.add("gw-ok", "grid_worker", "YS-C01-G09")  # a new grid of a known community
    assert accounts.add("so-other", "safety_officer", "xs-c01")  # another street, all its own
    assert [a.name for a in accounts.all()] == ["gw-ok", "so-1", "so-other"]


def test_a_revoked_account_may_be_changed_and_stays_revoked(cases: Any) -> None:
    # A worker away and revoked moves grid before coming back: the move is recorded now,
    # the new token (reissue) then acts in the new grid.
    accounts = Accounts(cases)
    accounts.add("gw-away", "grid_worker", f.GRID)
    accounts.revoke("gw-away")
    accounts.change("gw-away", unit=OTHER_GRID)
    assert accounts.get("gw-away").revoked
    assert accounts.authenticate(accounts.reissue("gw-away")).unit == OTHER_GRID


def test_a_cached_token_sees_a_change_within_the_ttl(cases: Any) -> None:
    accounts = Accounts(cases)
    token = accounts.add("gw-cache", "grid_worker", f.GRID)
    now = [100.0]
    tokens = TokenCache(accounts, ttl=2.0, now=lambda: now[0])
    assert tokens.authenticate(token).unit == f.GRID
    accounts.change("gw-cache", unit=OTHER_GRID)
    now[0] += 1.9  # still remembered: the documented price of the cache
    assert tokens.authenticate(token).unit == f.GRID
    now[0] += 0.2
    assert tokens.authenticate(token).unit == OTHER_GRID


def test_every_account_is_listed_by_name_with_when_its_token_was_issued(
        cases: Any, clock: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.accounts, "LIST_PAGE", 2)  # several pages of Registered events
    accounts = Accounts(cases)
    for n, name in enumerate(("zhou", "li", "chen", "wang", "an")):
        accounts.add(name, "grid_worker", f.GRID)
        f.report(cases, n)  # case events between the accounts' own
        clock.advance(minutes=1)
    accounts.revoke("wang")
    accounts.reissue("li")
    listed = accounts.all()
    assert [a.name for a in listed] == ["an", "chen", "li", "wang", "zhou"]
    by_name = {a.name: a for a in listed}
    assert by_name["wang"].revoked and not by_name["li"].revoked
    assert by_name["li"].token_issued_on == clock.now()
    assert by_name["li"].created_on < by_name["li"].token_issued_on
    assert by_name["zhou"].token_issued_on == by_name["zhou"].created_on


def test_accounts_are_found_by_the_topic_the_store_writes(cases: Any) -> None:
    # The listing filters notifications by this topic: a class renamed or moved would
    # silently list no account at all.
    Accounts(cases).add("li", "grid_worker", f.GRID)
    written = cases.recorder.select_notifications(1, 10)
    registered = [n for n in written if n.originator_id == account_id("li")]
    assert registered[0].topic == REGISTERED_TOPIC == "api.accounts:Account.Registered"


@pytest.mark.parametrize("edit", [
    lambda accounts: accounts.change("gw-race", unit=OTHER_GRID),
    lambda accounts: accounts.revoke("gw-race"),
    lambda accounts: accounts.reissue("gw-race"),
], ids=["change", "revoke", "reissue"])
def test_an_edit_racing_another_on_the_same_account_is_refused_in_one_line(
        cases: Any, monkeypatch: pytest.MonkeyPatch, edit: Any) -> None:
    accounts = Accounts(cases)
    token = accounts.add("gw-race", "grid_worker", f.GRID)
    stale = accounts.get("gw-race")  # what the slower admin's command read
    accounts.change("gw-race", role="volunteer")  # the faster admin's command, written
    monkeypatch.setattr(accounts, "get", lambda name: stale)
    with pytest.raises(DomainError, match="changed by another command at the same moment"):
        edit(accounts)
    actor = Accounts(cases).authenticate(token)  # only the faster edit was recorded
    assert (actor.role.value, actor.unit) == ("volunteer", f.GRID)
