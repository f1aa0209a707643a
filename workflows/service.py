"""The application service: commands in, events saved.

One method per lifecycle trigger. Each loads what it needs, asks the lifecycle for the
next state, commands the aggregate, and saves every touched aggregate in one transaction
(the case, its number, its place register, the idempotency record). A save that collides
with a concurrent writer is decided again from fresh state; a command that carried the
version it was decided on is then refused as stale instead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import Environment, EnvType

from domain.case import Act, HazardCase
from domain.clock import Clock, SystemClock
from domain.errors import (
    CaseNotFound,
    DomainError,
    IdempotencyMismatch,
    NotPermitted,
    PlaceMismatch,
    ProbableDuplicate,
    VersionConflict,
)
from domain.events import CaseEvent
from domain.timeutil import local_date, require_aware
from domain.values import (
    SYSTEM_ACTOR,
    Actor,
    Department,
    Evidence,
    Party,
    Place,
    Role,
    parse_enum,
    require_text,
)
from workflows import lifecycle
from workflows.deadlines import (
    acceptance_due,
    current_level,
    require_due,
    verification_due,
)
from workflows.fingerprint import fingerprint
from workflows.lent import LentAggregates
from workflows.numbering import CaseNumbers
from workflows.policy import Policy
from workflows.records import (
    CaseNumber,
    CommandRecord,
    PlaceRegister,
    case_number_id,
    command_record_id,
    place_register_id,
)


class ConcurrencyExhausted(DomainError):
    """Too many concurrent writers touched the same records; the command was not applied."""


@dataclass(frozen=True)
class CommandResult:
    """What a command knows about the case it changed: enough to answer the caller."""

    case_id: UUID
    number: str
    state: str
    version: int
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "case_id": str(self.case_id)}

    @classmethod
    def from_dict(cls, data: dict[str, Any], replayed: bool) -> CommandResult:
        return cls(UUID(data["case_id"]), data["number"], data["state"], data["version"],
                   replayed)


# A command's decision: given whether it must read everything fresh from the store (rather
# than use the aggregates this process wrote last), the aggregates to save and the case.
Decision = Callable[[bool], tuple[list[Aggregate], HazardCase]]


@dataclass(frozen=True)
class PlaceMoveResult:
    """What a place was before a move (grid, community, kind), and whether this call was
    a repeat of a move already made with the same command id (nothing appended)."""

    before: dict[str, str]
    replayed: bool = False


class CaseStore(Application):
    """The eventsourcing application: event store, repository and notification log.

    Its name fixes the PostgreSQL table names (``hazardcases_events``).
    """

    name = "HazardCases"

    def construct_env(self, name: str, env: EnvType | None = None) -> Environment:
        # Only the environment we are given: eventsourcing would otherwise also read
        # os.environ, where a stray POSTGRES_* or HAZARDCASES_* key would silently win over
        # hazardflow's own settings.
        return Environment(name, dict(env or {}))


class HazardCases:
    """The hazard-case service. Trigger methods are named like the lifecycle triggers.

    It wraps (rather than subclasses) the eventsourcing Application, whose own ``notify``
    and ``close`` methods would clash with the triggers of the same names.
    """

    MAX_ATTEMPTS = 10

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock | None = None,
        policy: Policy | None = None,
    ) -> None:
        self.app = CaseStore(env)
        self.clock: Clock = clock or SystemClock()
        self.policy = policy or Policy()
        self.recorder = self.app.recorder
        self.events = self.app.events
        self.repository = self.app.repository
        self.save = self.app.save
        # How a decided command's aggregates are written; workflows.group_commit swaps in
        # a writer that shares one transaction among the commands waiting at that moment.
        self.commit: Callable[..., Any] = self.app.save
        self._numbers = CaseNumbers(self.recorder)
        # Cases and place registers this process wrote last, lent to the next command on
        # them (workflows.lent says why a stale one never decides wrongly).
        self.lent = LentAggregates()

    def shutdown(self) -> None:
        """Close the store's connections."""
        self.app.close()

    # -- reading --------------------------------------------------------------------------

    def resolve(self, ref: UUID | str) -> UUID:
        """A case id from an id or a case number such as ``HZ-2026-000123``."""
        if isinstance(ref, UUID):
            return ref
        text = str(ref).strip()
        if text.upper().startswith("HZ-"):
            try:
                record: CaseNumber = self.repository.get(case_number_id(text.upper()))
            except AggregateNotFoundError:
                raise CaseNotFound(text) from None
            return record.case_id
        try:
            return UUID(text)
        except ValueError:
            raise CaseNotFound(text) from None

    def get_case(
        self, ref: UUID | str, *, version: int | None = None, as_of: datetime | None = None
    ) -> HazardCase:
        """The case now, at ``version``, or as it was recorded at the instant ``as_of``."""
        case_id = self.resolve(ref)
        if as_of is not None:
            require_aware(as_of, "as_of")
            known = [e for e in self.history(case_id) if e.timestamp <= as_of]
            if not known:
                raise CaseNotFound(f"{ref} (not yet recorded at {as_of.isoformat()})")
            version = known[-1].originator_version
        try:
            case: Aggregate | None = self.repository.get(case_id, version=version)
        except AggregateNotFoundError:
            if version is None:
                raise CaseNotFound(ref) from None
            case = None
        if version is not None and (case is None or case.version != version):
            # The library answers a version past the last with the last one, and one below 1
            # with nothing: name the versions the case has rather than show another or deny it.
            last = self.history(case_id)[-1].originator_version
            raise CaseNotFound(f"{ref} at version {version} (its versions are 1 to {last})")
        if not isinstance(case, HazardCase):
            raise CaseNotFound(ref)
        return case

    def history(self, ref: UUID | str) -> list[CaseEvent]:
        """Every event of the case, oldest first."""
        case_id = self.resolve(ref)
        events = [e for e in self.events.get(case_id) if isinstance(e, CaseEvent)]
        if not events:
            raise CaseNotFound(ref)
        return events

    # -- reporting ------------------------------------------------------------------------

    def report(
        self, actor: Actor, *, place: Place, category: str, severity: str, description: str,
        evidence: Iterable[Evidence] = (), occurred_at: datetime | None = None,
        confirm_new: bool = False, command_id: str | None = None,
    ) -> CommandResult:
        """Record a hazard found on patrol; a probable duplicate appends nothing."""
        evidence = list(evidence)
        params = dict(place=place, category=category, severity=severity,
                      description=description, evidence=evidence, occurred_at=occurred_at,
                      confirm_new=confirm_new)

        def decide(fresh: bool) -> tuple[list[Aggregate], HazardCase]:
            now = self.clock.now()
            to = lifecycle.next_state("new", "report", actor.role)
            register = self._place_register(place.id, fresh) or PlaceRegister.open(place.id,
                                                                                   now)
            identity = _identity(place.as_dict())
            if not register.agrees_with(identity):
                raise PlaceMismatch(place.id, register.identity, identity)
            register.describe(identity, now)
            if not confirm_new:
                self._refuse_duplicate(register, category)
            act = Act(actor, "report", to, occurred_at or now, now)
            notice_due, rule = self.policy.notice_due(local_date(act.occurred_at))
            case = HazardCase.report(
                uuid4(), act, lambda: self._numbers.propose(local_date(now).year), place,
                category, severity, description, evidence, notice_due=notice_due, rule=rule)
            register.open_case(case.id, case.category, now)
            return [case, CaseNumber.issue(case.number, case.id, now), register], case

        result = self._run(actor, "report", None, params, command_id, decide)
        return result

    def move_place(self, place_id: str, *, grid: str, community: str, kind: str | None,
                   reason: str, actor: Actor, command_id: str | None = None
                   ) -> PlaceMoveResult:
        """Say what a registered place is now (grids redrawn, a kind misrecorded), so that
        its later reports are taken in its new grid, and move its open cases with it (each
        records ``PlaceMoved`` by ``actor``, in the same transaction as the register), so
        the new grid's desks have them; returns the identity it had. Closed cases keep the
        place their events recorded. A place already moved whose open cases are not
        (moved before cases followed their place) has those cases moved, and the move
        recorded on the register again. With ``command_id``, a repeat returns what the
        first returned and appends nothing."""
        if not reason.strip():
            raise DomainError("give the reason for moving the place")
        reason = require_text(reason, "the reason for moving the place")  # trimmed, no controls
        params = {"place_id": place_id, "grid": grid, "community": community, "kind": kind,
                  "reason": reason}
        print_ = fingerprint("move_place", params) if command_id else ""
        for _ in range(self.MAX_ATTEMPTS):
            if command_id and (done := self._recorded(actor.id, command_id, print_)) is not None:
                return PlaceMoveResult(dict(done["before"]), replayed=True)
            register, before = self.place_to_move(place_id)
            identity = {"grid": grid, "community": community, "kind": kind or before["kind"]}
            behind = self.cases_behind(register, identity)
            now = self.clock.now()  # after reading the cases: not before their last action
            if identity == before and not behind:
                # this command's twin may have moved it since the look-up above
                if command_id and (done := self._recorded(actor.id, command_id, print_)):
                    return PlaceMoveResult(dict(done["before"]), replayed=True)
                raise DomainError(f"place {place_id} already is {_told(identity)}")
            # The register records every move, also one that only brings cases left behind
            # (its identity unchanged): its next version is what makes the place and its
            # cases move together. Without it, a move read "already there" before another
            # admin's move landed and then moved the cases alone, away from their place.
            register.move(identity, actor.id, reason, now)
            touched: list[Aggregate] = [register]
            for case in behind:
                case.move_place(Act(actor, "move_place",
                                    lifecycle.next_state(case.state, "move_place", actor.role),
                                    now, now), grid=grid, community=community,
                                kind=identity["kind"], reason=reason,
                                **self._new_desk_due(case, community, now))
                touched.append(case)
            if command_id:
                touched.append(CommandRecord.applied(actor.id, command_id, print_,
                                                     {"before": before}, now))
            try:
                self.commit(*touched)
            except IntegrityError:  # a report or a command at the place, or a twin, landed
                continue
            # kept for the next command, as every command keeps what it wrote: a copy kept
            # from before the move would only collide with it and be decided again
            self.lent.give_back(*(a for a in touched
                                  if isinstance(a, HazardCase | PlaceRegister) and a.is_open))
            return PlaceMoveResult(dict(before))
        raise DomainError(f"place {place_id} kept changing while it was moved; try again")

    def _new_desk_due(self, case: HazardCase, community: str, now: datetime
                      ) -> dict[str, Any]:
        """The due day of the new community's officers for a case moved to them while it
        waits on its community (a notice, a re-inspection): the rules' time from the move,
        as a case handed over (转办) gets; nothing when the community stays."""
        if community == case.place["community"]:
            return {}
        if case.state == "found":
            due, rule = self.policy.notice_due(local_date(now))
            return {"notice_due": due, "rule": rule}
        if case.state == "rectifying.awaiting_verification":
            due, rule = self.policy.verification_due(local_date(now))
            return {"verify_due": due, "rule": rule}
        return {}

    def cases_behind(self, register: PlaceRegister, identity: dict[str, str]
                     ) -> list[HazardCase]:
        """The place's open cases that are not yet where ``identity`` puts the place."""
        cases = (self.get_case(UUID(case_id)) for case_id in register.open_cases)
        return [case for case in cases if _identity(case.place) != identity]

    def place_to_move(self, place_id: str) -> tuple[PlaceRegister, dict[str, str]]:
        """The register of a place to move, and what it is registered as; refused for a
        place never reported, or registered before places were described."""
        register = self._place_register(place_id)
        if register is None:
            raise DomainError(f"no place {place_id} is registered: it has never been "
                              "reported, so its next report may give any grid")
        if register.identity is None:  # registered before places were described (2026-12-05)
            raise DomainError(f"place {place_id} has no grid registered yet: its next "
                              "report registers the grid it gives, so it needs no move")
        return register, register.identity

    def _refuse_duplicate(self, register: PlaceRegister, category: str,
                          trigger: str = "report") -> None:
        existing = register.open_case_of(str(getattr(category, "value", category)))
        if existing is not None:
            raise ProbableDuplicate(existing, self.get_case(existing).number, trigger)

    # -- notice and rectification ---------------------------------------------------------

    def notify(self, ref: UUID | str, actor: Actor, *, party: Party,
               deadline: date | None = None, **common: Any) -> CommandResult:
        """Issue the rectification notice (整改通知书); the deadline defaults by policy."""
        def apply(case: HazardCase, act: Act) -> None:
            due, rule = self._deadline(case, act, deadline)
            case.notify(act, party, due, rule)

        return self._act(ref, actor, "notify", dict(party=party, deadline=deadline), apply,
                         **common)

    def start_rectification(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        return self._act(ref, actor, "start_rectification", {},
                         lambda case, act: case.start_rectification(act), **common)

    def submit_rectification(self, ref: UUID | str, actor: Actor, *, measures: str,
                             evidence: Iterable[Evidence] = (), **common: Any) -> CommandResult:
        """The party's rectification is in; the re-inspection is due by the rules."""
        evidence = list(evidence)

        def apply(case: HazardCase, act: Act) -> None:
            due, rule = self.policy.verification_due(local_date(act.occurred_at))
            case.submit_rectification(act, measures, evidence, verify_due=due, rule=rule)

        return self._act(ref, actor, "submit_rectification",
                         dict(measures=measures, evidence=evidence), apply, **common)

    def verify(self, ref: UUID | str, actor: Actor, *, passed: bool, reason: str = "",
               **common: Any) -> CommandResult:
        """The inspector's re-inspection (复查验收): passed closes, failed is rework."""
        return self._act(ref, actor, "verify", dict(passed=passed, reason=reason),
                         lambda case, act: case.verify(act, passed, reason),
                         outcome="passed" if passed else "failed", **common)

    def extend_deadline(self, ref: UUID | str, actor: Actor, *, deadline: date, reason: str,
                        **common: Any) -> CommandResult:
        return self._act(ref, actor, "extend_deadline", dict(deadline=deadline, reason=reason),
                         lambda case, act: case.extend_deadline(act, deadline, reason), **common)

    # -- refusal, escalation, enforcement -------------------------------------------------

    def refuse(self, ref: UUID | str, actor: Actor, *, reason: str,
               department: Department | str | None = None, **common: Any) -> CommandResult:
        """The party refuses to rectify (拒不整改): hand the case to its department."""
        def apply(case: HazardCase, act: Act) -> None:
            case.refuse(act, reason, *self._route(case, department), **self._acceptance(act))

        return self._act(ref, actor, "refuse", dict(reason=reason, department=department),
                         apply, **common)

    def escalate(self, ref: UUID | str, actor: Actor, *, reason: str,
                 department: Department | str | None = None, **common: Any) -> CommandResult:
        def apply(case: HazardCase, act: Act) -> None:
            case.escalate(act, reason, *self._route(case, department), **self._acceptance(act))

        return self._act(ref, actor, "escalate", dict(reason=reason, department=department),
                         apply, **common)

    def accept_escalation(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        """The department takes the escalation on; its decision is due by the rules."""
        def apply(case: HazardCase, act: Act) -> None:
            case.accept_escalation(act, *self.policy.decision_due(local_date(act.occurred_at)))

        return self._act(ref, actor, "accept_escalation", {}, apply, **common)

    def record_enforcement(self, ref: UUID | str, actor: Actor, *, decision_number: str,
                           measure: str, amount: str = "0", **common: Any) -> CommandResult:
        params = dict(decision_number=decision_number, measure=measure, amount=amount)
        return self._act(ref, actor, "record_enforcement", params,
                         lambda case, act: case.record_enforcement(act, **params), **common)

    def order_rectification(self, ref: UUID | str, actor: Actor, *, deadline: date | None = None,
                            reason: str = "", **common: Any) -> CommandResult:
        """The department orders the party back to rectification with a new deadline."""
        def apply(case: HazardCase, act: Act) -> None:
            due, rule = self._deadline(case, act, deadline)
            case.order_rectification(act, due, reason, rule)

        return self._act(ref, actor, "order_rectification",
                         dict(deadline=deadline, reason=reason), apply, **common)

    def close(self, ref: UUID | str, actor: Actor, *, closing_reason: str = "enforced",
              reason: str = "", **common: Any) -> CommandResult:
        return self._act(ref, actor, "close", dict(closing_reason=closing_reason, reason=reason),
                         lambda case, act: case.close(act, closing_reason, reason), **common)

    # -- dismissal, recurrence, comments --------------------------------------------------

    def dismiss(self, ref: UUID | str, actor: Actor, *, closing_reason: str, reason: str,
                duplicate_of: str = "", **common: Any) -> CommandResult:
        def apply(case: HazardCase, act: Act) -> None:
            original = ""
            if duplicate_of.strip():
                original = str(self.resolve(duplicate_of))
                if original == str(case.id):
                    raise DomainError("a case cannot duplicate itself")
                other = self.get_case(original)
                if not other.is_open:
                    # Else two reports could dismiss each other and leave the hazard on no
                    # one's desk; a hazard back after its case closed is a recurrence.
                    raise DomainError(
                        f"{other.number} is closed ({other.closing_reason}): a duplicate names "
                        "the open case working the same hazard; if the hazard came back "
                        f"after {other.number} closed, reopen it")
            case.dismiss(act, closing_reason, reason, original)

        params = dict(closing_reason=closing_reason, reason=reason, duplicate_of=duplicate_of)
        return self._act(ref, actor, "dismiss", params, apply, **common)

    def reopen(self, ref: UUID | str, actor: Actor, *, reason: str, confirm_new: bool = False,
               **common: Any) -> CommandResult:
        """The hazard came back (复发): a new cycle of the same case, linked to the last.

        Refused as a probable duplicate while another case of the category is open at the
        place (the hazard found again and reported as new meanwhile): two open cases of one
        hazard would count it twice, in the risk grade and the statistics, on two desks.
        """
        def apply(case: HazardCase, act: Act) -> None:
            register = self._place_register(case.place["id"])
            if register is not None and not confirm_new:
                self._refuse_duplicate(register, case.category, "reopen")
            case.reopen(act, reason, *self.policy.notice_due(local_date(act.occurred_at)))
            if register is not None and register.identity not in (None, _identity(case.place)):
                # moved since the case closed: the hazard is back at the place as it now is
                to = lifecycle.next_state(case.state, "move_place", Role.SYSTEM)
                moved = Act(SYSTEM_ACTOR, "move_place", to, act.occurred_at, act.recorded_at)
                now_at = register.identity
                case.move_place(moved, grid=now_at["grid"], community=now_at["community"],
                                kind=now_at["kind"], reason=f"reopened at place "
                                f"{case.place['id']}, moved since the case closed",
                                **self._new_desk_due(case, now_at["community"],
                                                     act.occurred_at))

        # confirm_new only when given: a replayed reopen keeps its original fingerprint
        params = dict(reason=reason, **({"confirm_new": True} if confirm_new else {}))
        return self._act(ref, actor, "reopen", params, apply, **common)

    def comment(self, ref: UUID | str, actor: Actor, *, text: str,
                **common: Any) -> CommandResult:
        return self._act(ref, actor, "comment", dict(text=text),
                         lambda case, act: case.comment(act, text), **common)

    def attach_evidence(self, ref: UUID | str, actor: Actor, *, evidence: Iterable[Evidence],
                        note: str = "", **common: Any) -> CommandResult:
        """Put stored photos or documents on the record (``workflows.evidence`` keeps them)."""
        evidence = list(evidence)
        return self._act(ref, actor, "attach_evidence", dict(evidence=evidence, note=note),
                         lambda case, act: case.attach_evidence(act, evidence, note), **common)

    # -- the engine's own commands (run by the tick, ``workflows.escalation``) ------------
    # Each checks again, inside the command and against the case as stored now, that its
    # action is still due (``workflows.deadlines``); the tick passes a deterministic
    # command id, so a concurrent tick's attempt is a replay, not a second event.

    def remind_deadline(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "remind_deadline", act)
            assert case.deadline is not None  # require_due: due only with a deadline set
            case.remind_deadline(act, self.policy.reminder_rule(date.fromisoformat(case.deadline)),
                                 self.policy.version)

        return self._act(ref, actor, "remind_deadline", {}, apply, **common)

    def escalate_overdue(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        """The deadline passed with no rectification submitted (逾期未整改): record it and
        escalate to the routed department, in one transaction."""
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "escalate_overdue", act)
            rule = self._missed_rule(case)
            case.miss_deadline(act, rule, self.policy.version)
            then = self._then(case, act, "escalate")
            case.escalate(then, rule, *self._route(case, None), **self._acceptance(then))

        return self._act(ref, actor, "miss_deadline", {"escalate": True}, apply, **common)

    def miss_deadline(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        """Record a missed deadline alone (the lifecycle trigger); the tick escalates it next."""
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "miss_deadline", act)
            case.miss_deadline(act, self._missed_rule(case), self.policy.version)

        return self._act(ref, actor, "miss_deadline", {}, apply, **common)

    def escalate_missed(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        """A case whose deadline was missed goes to its routed department."""
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "escalate_missed", act)
            case.escalate(act, self._missed_rule(case), *self._route(case, None),
                          **self._acceptance(act))

        return self._act(ref, actor, "escalate", {"missed": True}, apply, **common)

    def _missed_rule(self, case: HazardCase) -> str:
        return self.policy.rule(f"deadline {case.deadline} passed: escalate to the routed "
                                f"department (escalation.chain starts at "
                                f"{self.policy.first_level().value})")

    def escalate_at_once(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        """A major hazard goes to its department at once, under supervised listing."""
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "escalate_at_once", act)
            rule = self.policy.rule("major_hazard.escalate_at_once = true")
            case.escalate(act, rule, *self._route(case, None), **self._acceptance(act))
            if self.policy.supervised_listing(case.severity):
                case.list_supervised(self._then(case, act, "list_supervised"),
                                     self.policy.rule("major_hazard.supervised_listing = true"),
                                     self.policy.version)

        return self._act(ref, actor, "escalate", {"at_once": True}, apply, **common)

    def list_supervised(self, ref: UUID | str, actor: Actor, **common: Any) -> CommandResult:
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "list_supervised", act)
            case.list_supervised(act, self.policy.rule("major_hazard.supervised_listing = true"),
                                 self.policy.version)

        return self._act(ref, actor, "list_supervised", {}, apply, **common)

    def flag_verification_overdue(self, ref: UUID | str, actor: Actor,
                                  **common: Any) -> CommandResult:
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "flag_verification_overdue", act)
            assert case.submitted_at is not None  # require_due: due only once submitted
            due, rule = verification_due(case, self.policy)
            case.flag_verification_overdue(act, due, case.place["community"], rule,
                                           self.policy.version)

        return self._act(ref, actor, "flag_verification_overdue", {}, apply, **common)

    def raise_escalation_level(self, ref: UUID | str, actor: Actor,
                               **common: Any) -> CommandResult:
        """No one accepted the escalation within its level's limit: it climbs one level."""
        def apply(case: HazardCase, act: Act) -> None:
            self._require_due(case, "raise_escalation_level", act)
            level, _ = current_level(case, self.policy)
            higher = self.policy.next_level(level)
            due, rule = acceptance_due(case, self.policy)
            new_level = getattr(higher, "value", level)
            # the limit at the new level starts now: recorded, so a later edit of the
            # chain does not move it (as ``accept_due`` on the escalation)
            level_due = self.policy.acceptance_due(new_level, local_date(act.occurred_at))
            case.raise_escalation_level(act, level, new_level, due,
                                        f"not accepted in time: {rule}", self.policy.version,
                                        level_due)

        return self._act(ref, actor, "raise_escalation_level", {}, apply, **common)

    def _require_due(self, case: HazardCase, action: str, act: Act) -> None:
        if act.actor.role is not Role.SYSTEM:
            raise NotPermitted(f"only the engine runs {action}, not {act.actor.id}")
        require_due(case, action, self.policy, act.occurred_at)

    @staticmethod
    def _then(case: HazardCase, act: Act, trigger: str) -> Act:
        """The next act of the same command, decided from the state the last one left."""
        to = lifecycle.next_state(case.state, trigger, act.actor.role)
        return Act(act.actor, trigger, to, act.occurred_at, act.recorded_at)

    def act(self, ref: UUID | str, trigger: str, actor: Actor, **params: Any) -> CommandResult:
        """Run ``trigger`` by name (the CLI and the HTTP API dispatch through here)."""
        if trigger in _NOT_ON_ONE_CASE or trigger not in lifecycle.TRIGGERS:
            state = self.get_case(ref).state
            raise lifecycle_error(state, trigger, actor)
        return getattr(self, trigger)(ref, actor, **params)

    # -- the machinery every command shares -----------------------------------------------

    def _act(
        self, ref: UUID | str, actor: Actor, trigger: str, params: dict[str, Any],
        apply: Callable[[HazardCase, Act], None], *, outcome: str | None = None,
        occurred_at: datetime | None = None, expected_version: int | None = None,
        command_id: str | None = None, scope: Callable[[HazardCase], None] | None = None,
    ) -> CommandResult:
        """``scope``, when given, refuses a case the caller may not act on, checked on the
        case as decided on (its place may have moved since the caller last saw it)."""
        case_id = self.resolve(ref)
        if occurred_at is not None:
            require_aware(occurred_at, "occurred_at")

        def decide(fresh: bool) -> tuple[list[Aggregate], HazardCase]:
            case = self._case_for_command(case_id, fresh)
            if scope is not None:
                scope(case)
            if expected_version is not None and case.version != expected_version:
                raise VersionConflict(case.id, expected_version, case.version)
            to = lifecycle.next_state(case.state, trigger, actor.role, outcome)
            now = self.clock.now()
            was_open = case.is_open
            apply(case, Act(actor, trigger, to, occurred_at or now, now))
            touched: list[Aggregate] = [case]
            if case.is_open != was_open:
                touched.append(self._track_open(case, now, fresh))
            return touched, case

        params = {**params, "case_id": case_id, "occurred_at": occurred_at,
                  "expected_version": expected_version}
        return self._run(actor, trigger, case_id, params, command_id, decide)

    def _run(
        self, actor: Actor, trigger: str, case_id: UUID | None, params: dict[str, Any],
        command_id: str | None, decide: Decision,
    ) -> CommandResult:
        # Only an idempotent command (one with a command id) needs its fingerprint.
        print_ = fingerprint(trigger, params) if command_id else ""
        for attempt in range(self.MAX_ATTEMPTS):
            if command_id:
                replay = self._replay(actor, command_id, print_)
                if replay is not None:
                    return replay
            try:
                touched, case = self._decide(decide, fresh=attempt > 0)
            except DomainError:
                # A twin of this command (same id) may have committed since the look-up
                # above; what it changed refuses this copy, which gets its answer instead.
                replay = self._replay(actor, command_id, print_) if command_id else None
                if replay is None:
                    raise
                return replay
            result = CommandResult(case.id, case.number, case.state, case.version)
            if command_id:
                touched.append(CommandRecord.applied(
                    actor.id, command_id, print_, result.as_dict(), self.clock.now()))
            try:
                self.commit(*touched)
            except IntegrityError:
                # Another writer committed first (same case, number, place or command id):
                # decide again from what is stored now. Back off a little to spread retries.
                time.sleep(random.uniform(0, min(0.2, 0.002 * 2**attempt)))
                continue
            self.lent.give_back(*(a for a in touched
                                  if isinstance(a, HazardCase | PlaceRegister) and a.is_open))
            return result
        raise ConcurrencyExhausted(
            f"{trigger} on {case_id or 'a new case'} collided with concurrent writers "
            f"{self.MAX_ATTEMPTS} times; try again"
        )

    @staticmethod
    def _decide(decide: Decision, fresh: bool) -> tuple[list[Aggregate], HazardCase]:
        if fresh:
            return decide(True)
        try:
            return decide(False)
        except DomainError:
            # Decided on kept state, which may be stale: a refusal stands only if the
            # stored state refuses too.
            return decide(True)

    def _case_for_command(self, case_id: UUID, fresh: bool) -> HazardCase:
        kept = None if fresh else self.lent.take(case_id, HazardCase)
        return kept if kept is not None else self.get_case(case_id)

    def _replay(self, actor: Actor, command_id: str, print_: str) -> CommandResult | None:
        result = self._recorded(actor.id, command_id, print_)
        return None if result is None else CommandResult.from_dict(result, replayed=True)

    def _recorded(self, actor_id: str, command_id: str, print_: str) -> dict[str, Any] | None:
        """What the actor's command of that id returned, None if it never ran."""
        try:
            record: CommandRecord = self.repository.get(command_record_id(actor_id, command_id))
        except AggregateNotFoundError:
            return None
        if record.fingerprint != print_:
            raise IdempotencyMismatch(
                f"command id {command_id!r} was already used for a different command"
            )
        return record.result

    def place_register(self, place_id: str) -> PlaceRegister | None:
        """The register of a place id (what it is, its open cases), None if never reported."""
        return self._place_register(place_id)

    def _place_register(self, place_id: str, fresh: bool = True) -> PlaceRegister | None:
        kept = None if fresh else self.lent.take(place_register_id(place_id), PlaceRegister)
        if kept is not None:
            return kept
        try:
            return self.repository.get(place_register_id(place_id))
        except AggregateNotFoundError:
            return None

    def _track_open(self, case: HazardCase, now: datetime, fresh: bool) -> PlaceRegister:
        register = self._place_register(case.place["id"], fresh) or PlaceRegister.open(
            case.place["id"], now)
        if register.agrees_with(_identity(case.place)):
            register.describe(_identity(case.place), now)
        if case.is_open:
            register.open_case(case.id, case.category, now)
        else:
            register.close_case(case.id, now)
        return register

    def _deadline(self, case: HazardCase, act: Act, given: date | None) -> tuple[date, str]:
        if given is not None:
            return given, "explicit"
        return self.policy.rectification_deadline(
            case.severity, case.category, case.place["kind"], local_date(act.occurred_at))

    def _acceptance(self, act: Act) -> dict[str, Any]:
        """When an escalation made by ``act`` must be accepted: the chain's first level's
        limit from that day (the due day the tick would record raising it a level)."""
        due, rule = self.policy.acceptance_due(self.policy.first_level().value,
                                               local_date(act.occurred_at))
        return {"accept_due": due, "accept_rule": rule}

    def _route(self, case: HazardCase, department: Department | str | None
               ) -> tuple[Department, str]:
        if department:
            return parse_enum(Department, getattr(department, "value", department),
                              "department"), "explicit"
        return self.policy.route(case.category, case.place["kind"])


# Triggers that are not a command on one existing case: a report makes a case, and an
# admin moves a place (``move_place``), which moves its open cases with it.
_NOT_ON_ONE_CASE = frozenset({"report", "move_place"})


def lifecycle_error(state: str, trigger: str, actor: Actor) -> DomainError:
    try:
        lifecycle.next_state(state, trigger, actor.role)
    except DomainError as error:
        return error
    return DomainError(f"{trigger} is not a command on an existing case")


def _identity(place: dict[str, Any]) -> dict[str, str]:
    """What makes a place the place it is; its name and address may be typed differently."""
    return {key: str(getattr(place[key], "value", place[key]))
            for key in ("grid", "community", "kind")}


def _told(identity: dict[str, str]) -> str:
    return f"a {identity['kind']} in grid {identity['grid']}, community {identity['community']}"
