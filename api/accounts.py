"""Accounts and bearer tokens: who the caller is.

The actor on every event comes from here (the authenticated caller), never from a field
the caller typed. Accounts are event-sourced in the same store as the cases, so who
created or revoked an account, and when, is on the record too. Only the SHA-256 of a
token is stored; the token itself is shown once, when it is issued.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from api.scopes import check_unit, lineage
from domain.errors import DomainError
from domain.values import SYSTEM_ACTOR, Actor, Role, parse_enum, require_text
from workflows.service import HazardCases

_NS = uuid5(NAMESPACE_URL, "https://hazardflow.invalid/accounts")


class Unauthenticated(DomainError):
    """No token, an unknown token, or a revoked one (401 at the HTTP edge)."""


class AccountExists(DomainError):
    pass


def _one_line(text: str, what: str) -> str:
    # The name is the actor id on every event and in every history listing, where a line
    # break could pass for another entry.
    if "\t" in text or len(text.splitlines()) > 1:
        raise DomainError(f"{what} {text!r} must be one line, without tabs")
    return text


def account_id(name: str) -> UUID:
    return uuid5(_NS, f"account:{name}")


def token_key(token_hash: str) -> UUID:
    return uuid5(_NS, f"token:{token_hash}")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Account(Aggregate):
    class Registered(Aggregate.Created):
        name: str
        role: str
        unit: str
        token_hash: str
        registered_by: str

    class Revoked(Aggregate.Event):
        revoked_by: str

        def apply(self, account: Account) -> None:
            account.revoked = True

    class Reissued(Aggregate.Event):
        """A new token for the same account (a lost phone): the old one stops working, the
        actor id on every event, past and future, stays the same."""

        token_hash: str
        reissued_by: str

        def apply(self, account: Account) -> None:
            account.token_hash = self.token_hash
            account.token_issued_on = self.timestamp
            account.revoked = False

    class Changed(Aggregate.Event):
        """A new role or unit for the same account (a grid worker moved to another grid).
        Events recorded before keep the role and unit they carry: they were decided under
        those, and nothing reads an old event's role from the account."""

        role: str
        unit: str
        changed_by: str

        def apply(self, account: Account) -> None:
            account.role = self.role
            account.unit = self.unit

    def __init__(self, name: str, role: str, unit: str, token_hash: str,
                 registered_by: str) -> None:
        self.name = name
        self.role = role
        self.unit = unit
        self.token_hash = token_hash
        self.token_issued_on: datetime = self.created_on
        self.registered_by = registered_by
        self.revoked = False

    def as_actor(self) -> Actor:
        return Actor(self.name, Role(self.role), self.unit)


class TokenIndex(Aggregate):
    """Finds the account of a token hash with one key look-up."""

    class Indexed(Aggregate.Created):
        account_name: str

    def __init__(self, account_name: str) -> None:
        self.account_name = account_name


def _jurisdiction(role: Role | str, unit: str) -> tuple[Role, str]:
    """An account's role and unit, checked: any role but the system's, and a unit of that
    role's level (a grid, community, street or department, see api/scopes.py)."""
    role = parse_enum(Role, role, "role")
    if role is Role.SYSTEM:
        raise DomainError("the system actor is not an account")
    unit = _one_line(require_text(unit, "unit", 100), "unit")
    check_unit(role, unit)
    return role, unit


# Accounts are listed from their Registered events in the log, not from a projection:
# listing is a rare admin command, while a projection would cost something on every event
# of every rebuild. One page reads this many notifications of that topic.
REGISTERED_TOPIC = get_topic(Account.Registered)
UNIT_TOPICS = [REGISTERED_TOPIC, get_topic(Account.Changed)]
LIST_PAGE = 500


def _issue(name: str, now: datetime) -> tuple[str, TokenIndex]:
    """A new token for account ``name`` and the index entry that finds the account by its
    hash (only the hash is kept)."""
    token = secrets.token_urlsafe(32)
    index = TokenIndex._create(TokenIndex.Indexed, id=token_key(hash_token(token)),
                               account_name=name, timestamp=now)
    return token, index


class Accounts:
    def __init__(self, cases: HazardCases) -> None:
        self._cases = cases

    def add(self, name: str, role: Role | str, unit: str, *, by: str = "admin-cli") -> str:
        """Create an account and return its token (shown once, never stored)."""
        name = _one_line(require_text(name, "account name", 100), "account name")
        role, unit = _jurisdiction(role, unit)
        self._refuse_letter_case_variant(unit)
        if name == SYSTEM_ACTOR.id:
            raise DomainError(f"{name!r} is the automatic actor's name (escalate-due); "
                              "choose another account name")
        now: datetime = self._cases.clock.now()
        token, index = _issue(name, now)
        account = Account._create(
            Account.Registered, id=account_id(name), name=name, role=role.value, unit=unit,
            token_hash=hash_token(token), registered_by=by, timestamp=now)
        try:
            self._cases.save(account, index)
        except IntegrityError:
            raise AccountExists(f"an account named {name!r} exists already") from None
        return token

    def revoke(self, name: str, *, by: str = "admin-cli") -> None:
        account = self.get(name)
        if account.revoked:
            raise DomainError(f"the account {name!r} is already revoked")
        account.trigger_event(Account.Revoked, revoked_by=by,
                              timestamp=self._cases.clock.now())
        self._save_edit(name, account)

    def reissue(self, name: str, *, by: str = "admin-cli") -> str:
        """A new token for the account ``name``, revoked or not; its old token ends."""
        account = self.get(name)
        now: datetime = self._cases.clock.now()
        token, index = _issue(account.name, now)
        account.trigger_event(Account.Reissued, token_hash=hash_token(token), reissued_by=by,
                              timestamp=now)
        self._save_edit(name, account, index)
        return token

    def change(self, name: str, *, role: Role | str | None = None, unit: str | None = None,
               by: str = "admin-cli") -> Account:
        """Give the account ``name`` a new role, unit or both, checked as ``add`` checks them.

        The name, the actor id on every event, stays, so the person's record stays in one
        piece. A revoked account may be changed too (it stays revoked until reissued).
        """
        if role is None and unit is None:
            raise DomainError("a change needs a new role, a new unit or both")
        account = self.get(name)
        role, unit = _jurisdiction(account.role if role is None else role,
                                   account.unit if unit is None else unit)
        if (role.value, unit) == (account.role, account.unit):
            raise DomainError(f"the account {name!r} is already {role.value} in {unit}")
        self._refuse_letter_case_variant(unit)
        account.trigger_event(Account.Changed, role=role.value, unit=unit, changed_by=by,
                              timestamp=self._cases.clock.now())
        self._save_edit(name, account)
        return account

    def _refuse_letter_case_variant(self, unit: str) -> None:
        """Refuse a unit (or the community or street it lies in) that accounts hold written
        otherwise in letter case: units are matched exactly, so a grid worker added in
        ys-c01-g01 where YS-C01 has its officers filed cases no officer could see."""
        held = {above for known in self._units_held() for above in lineage(known)}
        for mine in lineage(unit):
            variant = next((u for u in sorted(held)
                            if u != mine and u.casefold() == mine.casefold()), None)
            if variant is not None:
                raise DomainError(f"{mine!r} is written {variant!r} by the accounts that hold "
                                  f"it: units are matched exactly, so write {variant!r}")

    def _units_held(self) -> set[str]:
        """Every unit an account was registered in or changed to (revoked ones too)."""
        units: set[str] = set()
        start, decode = 1, self._cases.app.mapper.to_domain_event
        while page := self._cases.recorder.select_notifications(
                start, LIST_PAGE, topics=UNIT_TOPICS):
            units.update(getattr(decode(n), "unit") for n in page)  # Registered, Changed
            start = page[-1].id + 1
        return units

    def _save_edit(self, name: str, *aggregates: Aggregate) -> None:
        # Two admins editing one account at once: the second write finds the version it
        # decided on taken. Nothing of it was written; say so in one line, not a traceback.
        try:
            self._cases.save(*aggregates)
        except IntegrityError:
            raise DomainError(f"the account {name!r} was changed by another command at the "
                              "same moment; nothing was recorded, run the command again"
                              ) from None

    def all(self) -> list[Account]:
        """Every account, revoked ones included, by name."""
        found: list[Account] = []
        start = 1
        while page := self._cases.recorder.select_notifications(
                start, LIST_PAGE, topics=[REGISTERED_TOPIC]):
            found += [self._cases.repository.get(n.originator_id) for n in page]
            start = page[-1].id + 1
        return sorted(found, key=lambda account: account.name)

    def get(self, name: str) -> Account:
        try:
            return self._cases.repository.get(account_id(name))
        except AggregateNotFoundError:
            raise DomainError(f"no account named {name!r}") from None

    def authenticate(self, token: str | None) -> Actor:
        """The actor a bearer token stands for, or Unauthenticated."""
        if not token:
            raise Unauthenticated("a bearer token is required")
        digest = hash_token(token.strip())
        try:
            index: TokenIndex = self._cases.repository.get(token_key(digest))
            account: Account = self._cases.repository.get(account_id(index.account_name))
        except AggregateNotFoundError:
            raise Unauthenticated("unknown token") from None
        if account.revoked or account.token_hash != digest:
            raise Unauthenticated("this token was revoked")
        return account.as_actor()
