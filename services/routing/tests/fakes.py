"""In memory: routing's unit of work and repositories, for unit tests without infrastructure.
tests/integration/test_routing_repository_contract.py holds them to the PostgreSQL behaviour."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from atiende_contracts import CompensationKind, EventData, ProblemLinkReason
from atiende_routing.domain.assignment import AgentLoad, WorkItem
from atiende_routing.domain.cases import RoutedCase
from atiende_routing.domain.commitments import Commitment, CommitmentState
from atiende_routing.domain.compensations import (
    LADDER,
    ApprovalLimit,
    ApprovalRequest,
    CatalogueEntry,
    CustomerCap,
    EntryKind,
    GrantUsage,
    LedgerEntry,
    RequestStatus,
)
from atiende_routing.domain.escalation import EscalationRecord
from atiende_routing.domain.org import Agent, Team
from atiende_routing.domain.phrasebook import Phrase
from atiende_routing.domain.problems import Magnitude, Problem, ProblemStatus, Threshold
from atiende_routing.domain.procedures import Policy, Procedure, ReviewThreshold
from atiende_routing.domain.rules import Explanation, Outcome, RoutingRule
from atiende_routing.domain.steps import Step, StepRecord
from atiende_routing.repository.cases import QueueFilter, QueuePosition, TimelineEntry
from atiende_routing.repository.compensations import CurrencyTotal, LedgerFilter, LedgerPosition
from atiende_routing.repository.problems import LinkedCase
from atiende_runtime.erasure import Scrubbed


class FakeCasesRepository:
    def __init__(self, *cases: RoutedCase) -> None:
        self.cases: dict[uuid.UUID, RoutedCase] = {case.id: case for case in cases}
        self.assignments: dict[uuid.UUID, int] = {}
        self.entries: list[TimelineEntry] = []

    async def add(self, case: RoutedCase) -> bool:
        if case.id in self.cases:
            return False
        self.cases[case.id] = case
        return True

    async def get(self, case_id: uuid.UUID) -> RoutedCase | None:
        return self.cases.get(case_id)

    async def get_for_update(self, case_id: uuid.UUID) -> RoutedCase | None:
        return self.cases.get(case_id)

    async def set_agent(
        self, case_id: uuid.UUID, team: str, agent_id: str | None, now: datetime
    ) -> RoutedCase | None:
        # like the SQL: only an open case moves; new or reopened becomes assigned
        stored = self.cases.get(case_id)
        if stored is None or stored.status in ("resolved", "closed"):
            return None
        status = "assigned" if stored.status in ("new", "reopened") else stored.status
        moved = replace(
            stored,
            team=team,
            agent_id=agent_id,
            assigned_at=now,
            status=type(stored.status)(status),
            version=getattr(stored, "version", 0) + 1,
        )
        self.cases[case_id] = moved
        self.assignments[case_id] = self.assignments.get(case_id, 0) + 1
        return moved

    async def save(self, case: RoutedCase, *, assignment: bool = False) -> None:
        if case.id not in self.cases:
            return
        self.cases[case.id] = case
        if assignment:
            self.assignments[case.id] = self.assignments.get(case.id, 0) + 1

    async def of_customer(self, customer_id: uuid.UUID) -> list[RoutedCase]:
        return sorted(
            (c for c in self.cases.values() if c.customer_id == customer_id),
            key=lambda c: (c.opened_at, c.id),
        )

    async def recoveries_of(self, case_id: uuid.UUID) -> list[RoutedCase]:
        return sorted(
            (c for c in self.cases.values() if c.recovery_of == case_id),
            key=lambda c: (c.opened_at, c.id),
        )

    async def queue(
        self, where: QueueFilter, after: QueuePosition | None, limit: int
    ) -> list[RoutedCase]:
        def key(c: RoutedCase) -> tuple[Any, ...]:
            due = c.sla_due_at or datetime.max.replace(tzinfo=UTC)
            return (c.escalation is None, due, c.opened_at, c.id)

        found = [
            c
            for c in self.cases.values()
            if c.status not in ("resolved", "closed")
            and (where.team is None or c.team == where.team)
            and (where.agent_id is None or c.agent_id == where.agent_id)
            and (not where.unassigned or c.agent_id is None)
            and (where.status is None or c.status == where.status)
            and (where.priority is None or c.priority == where.priority)
            and (where.escalated is None or (c.escalation is not None) == where.escalated)
        ]
        found.sort(key=key)
        if after is not None:
            due = after.due_at or datetime.max.replace(tzinfo=UTC)
            mark = (not after.escalated, due, after.opened_at, after.id)
            found = [c for c in found if key(c) > mark]
        return found[:limit]

    async def add_timeline(self, *entries: TimelineEntry) -> None:
        self.entries.extend(entries)

    async def timeline(self, case_id: uuid.UUID) -> list[TimelineEntry]:
        return [e for e in self.entries if e.case_id == case_id]

    async def erase_timeline(self, case_id: uuid.UUID, placeholder: str) -> None:
        self.entries = [
            replace(e, summary=placeholder)
            if e.case_id == case_id and e.kind not in ("opened", "assigned")
            else e
            for e in self.entries
        ]


class FakeStepsRepository:
    def __init__(self) -> None:
        self.records: dict[tuple[uuid.UUID, Step], StepRecord] = {}

    async def record(self, record: StepRecord) -> None:
        self.records[(record.case_id, record.step)] = record

    async def of_case(self, case_id: uuid.UUID) -> list[StepRecord]:
        order = list(Step)
        return sorted(
            (r for (c, _), r in self.records.items() if c == case_id),
            key=lambda r: order.index(r.step),
        )

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None:
        for key, r in list(self.records.items()):
            if key[0] == case_id:
                self.records[key] = replace(
                    r,
                    text=placeholder,
                    options=tuple(placeholder for _ in r.options),
                    chosen=placeholder if r.chosen is not None else None,
                )


class FakeCommitmentsRepository:
    def __init__(self) -> None:
        self.items: dict[uuid.UUID, Commitment] = {}

    async def add(self, commitment: Commitment) -> None:
        self.items[commitment.id] = commitment

    async def get(self, commitment_id: uuid.UUID, *, for_update: bool = False) -> Commitment | None:
        return self.items.get(commitment_id)

    async def save(self, commitment: Commitment) -> None:
        # like the SQL: state, times and description change; the rest stays
        stored = self.items.get(commitment.id)
        if stored is not None:
            self.items[commitment.id] = replace(
                stored,
                state=commitment.state,
                reminded_at=commitment.reminded_at,
                kept_at=commitment.kept_at,
                missed_at=commitment.missed_at,
                description=commitment.description,
            )

    async def of_case(self, case_id: uuid.UUID) -> list[Commitment]:
        return sorted(
            (c for c in self.items.values() if c.case_id == case_id),
            key=lambda c: (c.due_at, c.id),
        )

    async def move(
        self, from_case: uuid.UUID, to_case: uuid.UUID, to_number: str
    ) -> list[Commitment]:
        moved = []
        for c in list(self.items.values()):
            if c.case_id == from_case and c.state is CommitmentState.OPEN:
                self.items[c.id] = replace(c, case_id=to_case, case_number=to_number)
                moved.append(self.items[c.id])
        return moved

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None:
        for c in list(self.items.values()):
            if c.case_id == case_id:
                self.items[c.id] = replace(
                    c,
                    description=placeholder,
                    to_whom=placeholder if c.to_whom is not None else None,
                )


class FakeEscalationsRepository:
    def __init__(self) -> None:
        self.records: list[EscalationRecord] = []

    async def add(self, record: EscalationRecord) -> None:
        self.records.append(record)

    async def of_case(self, case_id: uuid.UUID) -> list[EscalationRecord]:
        return [r for r in self.records if r.case_id == case_id]

    async def erase(self, case_id: uuid.UUID, placeholder: str) -> None:
        self.records = [
            replace(r, note=placeholder) if r.case_id == case_id and r.note is not None else r
            for r in self.records
        ]


class FakePhrasebookRepository:
    def __init__(self, *phrases: Phrase) -> None:
        self.items: list[Phrase] = list(phrases)

    async def phrases(
        self, language: str | None = None, register: str | None = None
    ) -> list[Phrase]:
        return sorted(
            (
                p
                for p in self.items
                if (language is None or p.language == language)
                and (register is None or p.register == register)
            ),
            key=lambda p: (p.language, p.register.value, p.position),
        )

    async def replace(self, language: str, register: str, phrases: Sequence[Phrase]) -> None:
        self.items = [
            p for p in self.items if (p.language, p.register.value) != (language, register)
        ] + list(phrases)


class FakeUnitOfWork:
    def __init__(self, *cases: RoutedCase) -> None:
        self.cases = FakeCasesRepository(*cases)
        self.steps = FakeStepsRepository()
        self.commitments = FakeCommitmentsRepository()
        self.escalations = FakeEscalationsRepository()
        self.phrasebook = FakePhrasebookRepository()
        self.sla_policies = FakeSlaPoliciesRepository()
        self.clocks = FakeClocksRepository()
        self.timers = FakeTimersRepository()
        self.work = FakeWorkRepository()
        self.org = FakeOrgRepository(self.work)
        self.rules = FakeRulesRepository()
        self.compensations = FakeCompensationsRepository(self.cases)
        self.problems = FakeProblemsRepository(self.cases, self.clocks, self.compensations)
        self.procedures = FakeProceduresRepository(self.cases)
        self.emitted: list[EventData] = []
        self.scrubbed: list[tuple[frozenset[str], frozenset[str]]] = []
        self.subjects: list[str | uuid.UUID | None] = []

    async def scrub_copies(
        self,
        *,
        subjects: Iterable[uuid.UUID | str],
        values: Iterable[str | None],
        free_text: Collection[str] = (),
    ) -> Scrubbed:
        """No outbox here: records which subjects and keys it was asked to scrub."""
        self.scrubbed.append((frozenset(map(str, subjects)), frozenset(free_text)))
        return Scrubbed(0, 0)

    async def emit(self, data: EventData, *, subject: str | uuid.UUID | None = None) -> None:
        self.emitted.append(data)
        self.subjects.append(subject)


# --- SLA: policies, clocks, timers (like repository/sla.py and repository/timers.py) ----------


class FakeSlaPoliciesRepository:
    def __init__(self) -> None:
        from atiende_routing.domain.sla import DEFAULT_PAUSE_REASONS, DEFAULT_POLICY
        from atiende_routing.repository.sla import PauseReason

        self.versions: dict[tuple[str, int], Any] = {(DEFAULT_POLICY.id, 1): DEFAULT_POLICY}
        self.reasons = [PauseReason(code, label) for code, label in DEFAULT_PAUSE_REASONS]

    async def get(self, policy_id: str, version: int | None = None) -> Any:
        found = [
            p
            for (pid, v), p in self.versions.items()
            if pid == policy_id and (version is None or v == version)
        ]
        return max(found, key=lambda p: p.version) if found else None

    async def current(self) -> list[Any]:
        ids = sorted({pid for pid, _ in self.versions})
        return [await self.get(pid) for pid in ids]

    async def add(self, policy: Any) -> bool:
        if (policy.id, policy.version) in self.versions:
            return False
        self.versions[(policy.id, policy.version)] = policy
        return True

    async def pause_reasons(self) -> list[Any]:
        return list(self.reasons)

    async def set_pause_reasons(self, reasons: Any) -> None:
        self.reasons = list(reasons)


class FakeClocksRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[uuid.UUID, str, int], Any] = {}

    async def current(self, case_id: uuid.UUID) -> list[Any]:
        from atiende_contracts import SlaClock

        latest: dict[str, Any] = {}
        for (cid, name, _), clock in sorted(self.rows.items(), key=lambda kv: kv[0][2]):
            if cid == case_id:
                latest[name] = clock
        order = list(SlaClock)
        return sorted(latest.values(), key=lambda c: order.index(c.name))

    async def get(self, case_id: uuid.UUID, name: Any, *, for_update: bool = False) -> Any:
        cycles = [c for (cid, n, _), c in self.rows.items() if cid == case_id and n == name]
        return max(cycles, key=lambda c: c.cycle) if cycles else None

    async def history(self, case_id: uuid.UUID) -> list[Any]:
        return sorted(
            (c for (cid, _, _), c in self.rows.items() if cid == case_id),
            key=lambda c: (c.started_at, c.name, c.cycle),
        )

    async def save(self, *clocks: Any) -> None:
        for clock in clocks:
            self.rows[(clock.case_id, str(clock.name), clock.cycle)] = clock


class _NoSavepoint:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakeTimersRepository:
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Any] = {}
        self.errors: dict[uuid.UUID, str] = {}

    async def schedule(self, *timers: Any) -> None:
        for timer in timers:
            self._schedule(timer)

    def _schedule(self, timer: Any) -> None:
        for row in self.rows.values():
            if row.fired_at is None and (row.case_id, row.kind, row.ref) == (
                timer.case_id,
                timer.kind,
                timer.ref,
            ):
                self.rows[row.id] = replace(row, due_at=timer.due_at, payload=timer.payload)
                return
        self.rows[timer.id] = timer

    async def cancel(self, case_id: uuid.UUID, *, kinds: Any, ref_prefix: Any = "") -> int:
        prefixes = (ref_prefix,) if isinstance(ref_prefix, str) else tuple(ref_prefix)
        gone = [
            t.id
            for t in self.rows.values()
            if t.case_id == case_id
            and t.kind in kinds
            and t.fired_at is None
            and any(t.ref.startswith(p) for p in prefixes)
        ]
        for timer_id in gone:
            del self.rows[timer_id]
        return len(gone)

    async def claim_due(self, now: Any, limit: int) -> list[Any]:
        due = [t for t in self.rows.values() if t.fired_at is None and t.due_at <= now]
        return sorted(due, key=lambda t: t.due_at)[:limit]

    async def mark_fired(self, timer_ids: Any, outcome: Any, at: Any, by: str) -> None:
        for timer_id in timer_ids:
            row = self.rows.get(timer_id)
            if row is not None and row.fired_at is None:
                self.rows[timer_id] = replace(row, fired_at=at, fired_by=by, outcome=outcome)

    async def next_due(self) -> Any:
        pending = [t.due_at for t in self.rows.values() if t.fired_at is None]
        return min(pending) if pending else None

    def isolated(self) -> Any:
        # no rollback in memory: a failing fake handler's writes stay (the SQL undoes them)
        return _NoSavepoint()

    async def postpone(self, timer_id: uuid.UUID, until: Any, error: str) -> None:
        row = self.rows.get(timer_id)
        if row is not None and row.fired_at is None:
            self.rows[timer_id] = replace(row, due_at=until)
            self.errors[timer_id] = error

    async def pending(self, case_id: uuid.UUID) -> list[Any]:
        return sorted(
            (t for t in self.rows.values() if t.case_id == case_id and t.fired_at is None),
            key=lambda t: (t.due_at, t.ref),
        )


# --- organisation: teams, agents, who holds which case, rules (like repository/org.py, rules.py) --


class FakeWorkRepository:
    def __init__(self) -> None:
        self.items: dict[uuid.UUID, WorkItem] = {}

    async def put(self, item: WorkItem) -> None:
        self.items[item.case_id] = item

    async def get(self, case_id: uuid.UUID) -> WorkItem | None:
        return self.items.get(case_id)

    async def set_agent(self, case_id: uuid.UUID, agent_id: str | None, at: datetime) -> None:
        if case_id in self.items:
            self.items[case_id] = replace(
                self.items[case_id], agent_id=agent_id, assigned_at=at if agent_id else None
            )

    async def set_team(self, case_id: uuid.UUID, team: str, at: datetime) -> None:
        if case_id in self.items:
            self.items[case_id] = replace(
                self.items[case_id], team=team, agent_id=None, assigned_at=None
            )

    async def set_due(self, case_id: uuid.UUID, due_at: datetime | None) -> None:
        if case_id in self.items:
            self.items[case_id] = replace(self.items[case_id], due_at=due_at)

    async def close(self, case_id: uuid.UUID, at: datetime) -> WorkItem | None:
        item = self.items.get(case_id)
        if item is None or item.closed_at is not None:
            return None
        self.items[case_id] = replace(item, closed_at=at)
        return self.items[case_id]

    def _open(self) -> list[WorkItem]:
        far = datetime.max.replace(tzinfo=UTC)
        return sorted(
            (i for i in self.items.values() if i.closed_at is None),
            key=lambda i: (i.due_at or far, i.queued_at, i.case_id),
        )

    async def queue(self, team: str, limit: int) -> list[WorkItem]:
        return [i for i in self._open() if i.team == team and i.agent_id is None][:limit]

    async def held_by(self, agent_id: str) -> list[WorkItem]:
        return [i for i in self._open() if i.agent_id == agent_id]

    async def previous_agent(self, customer_id: uuid.UUID, before: uuid.UUID) -> str | None:
        theirs = sorted(
            (
                i
                for i in self.items.values()
                if i.customer_id == customer_id and i.case_id != before and i.agent_id
            ),
            key=lambda i: i.queued_at,
        )
        return theirs[-1].agent_id if theirs else None


class FakeOrgRepository:
    def __init__(self, work: FakeWorkRepository) -> None:
        self.work = work
        self.teams: dict[str, Team] = {"general": Team(id="general", name="General")}
        self.agents: dict[str, Agent] = {}
        self.last_assigned: dict[str, datetime] = {}

    async def add_team(self, team: Team) -> bool:
        if team.id in self.teams:
            return False
        self.teams[team.id] = team
        return True

    async def get_team(self, team_id: str, *, lock: bool = False) -> Team | None:
        return self.teams.get(team_id)

    async def list_teams(self) -> list[Team]:
        return [self.teams[k] for k in sorted(self.teams)]

    async def save_team(self, team: Team) -> None:
        if team.id in self.teams:
            self.teams[team.id] = team

    async def add_agent(self, agent: Agent) -> bool:
        if agent.id in self.agents:
            return False
        self.agents[agent.id] = agent
        return True

    async def get_agent(self, agent_id: str, *, lock: bool = False) -> Agent | None:
        return self.agents.get(agent_id)

    async def list_agents(self, team_id: str | None = None) -> list[Agent]:
        return [
            self.agents[k]
            for k in sorted(self.agents)
            if team_id is None or team_id in self.agents[k].teams
        ]

    async def save_agent(self, agent: Agent) -> None:
        if agent.id in self.agents:
            self.agents[agent.id] = agent

    async def loads(self, team_id: str) -> list[AgentLoad]:
        out = []
        for agent in await self.list_agents(team_id):
            held = await self.work.held_by(agent.id)
            by_channel: dict[str, int] = {}
            for item in held:
                if item.channel is not None:
                    by_channel[item.channel] = by_channel.get(item.channel, 0) + 1
            out.append(AgentLoad(agent, len(held), by_channel, self.last_assigned.get(agent.id)))
        return out

    async def mark_assigned(self, agent_id: str, at: datetime) -> None:
        self.last_assigned[agent_id] = at


DEFAULT_RULE = RoutingRule(
    id="default",
    name="Every other case",
    conditions=(),
    outcome=Outcome(team="general"),
    position=1000000,
)


class FakeRulesRepository:
    def __init__(self) -> None:
        self.heads: dict[str, RoutingRule] = {"default": DEFAULT_RULE}
        self.versions: dict[tuple[str, int], RoutingRule] = {("default", 1): DEFAULT_RULE}
        self.deleted: set[str] = set()
        self.decided: dict[uuid.UUID, list[tuple[datetime, Explanation]]] = {}
        self.locks = 0

    async def lock(self) -> None:
        self.locks += 1

    async def current(self) -> list[RoutingRule]:
        live = [r for k, r in self.heads.items() if k not in self.deleted]
        return sorted(live, key=lambda r: (r.position, r.id))

    async def get(self, rule_id: str) -> RoutingRule | None:
        return None if rule_id in self.deleted else self.heads.get(rule_id)

    async def version(self, rule_id: str, version: int) -> RoutingRule | None:
        found = self.versions.get((rule_id, version))
        head = self.heads.get(rule_id)
        if found is None or head is None:
            return None
        # like the SQL: content of that version, place and state of the head
        return replace(found, position=head.position, active=head.active)

    async def add(self, rule: RoutingRule, actor: str | None, at: datetime) -> bool:
        if rule.id in self.heads:
            return False
        self.heads[rule.id] = rule
        self.versions.setdefault((rule.id, rule.version), rule)
        return True

    async def save(self, rule: RoutingRule, actor: str | None, at: datetime) -> None:
        self.heads[rule.id] = rule
        self.versions.setdefault((rule.id, rule.version), rule)

    async def delete(self, rule_id: str, at: datetime) -> None:
        if rule_id in self.heads:
            self.heads[rule_id] = replace(self.heads[rule_id], active=False)
            self.deleted.add(rule_id)

    async def record_decision(
        self, case_id: uuid.UUID, explanation: Explanation, at: datetime
    ) -> None:
        self.decided.setdefault(case_id, []).append((at, explanation))

    async def decisions(self, case_id: uuid.UUID) -> list[tuple[datetime, Explanation]]:
        return list(self.decided.get(case_id, []))


# --- problems and procedures (like repository/problems.py and repository/procedures.py) -------


def _in(at: datetime | None, after: datetime, until: datetime | None = None) -> bool:
    return at is not None and after < at and (until is None or at <= until)


class FakeProblemsRepository:
    def __init__(
        self,
        cases: FakeCasesRepository,
        clocks: FakeClocksRepository,
        compensations: FakeCompensationsRepository,
    ) -> None:
        self._cases = cases
        self._clocks = clocks
        # the magnitude reads the compensations' own ledger, as the SQL reads compensation_ledger
        self._compensations = compensations
        self.thresholds_by_id: dict[str, Threshold] = {}
        self.problems: dict[uuid.UUID, Problem] = {}
        self.links: dict[
            tuple[uuid.UUID, uuid.UUID], tuple[ProblemLinkReason, datetime, str | None]
        ] = {}
        self.locked: list[str] = []
        self._numbers = 0

    async def add_threshold(self, threshold: Threshold) -> bool:
        if threshold.id in self.thresholds_by_id:
            return False
        self.thresholds_by_id[threshold.id] = threshold
        return True

    async def save_threshold(self, threshold: Threshold) -> None:
        if threshold.id in self.thresholds_by_id:
            self.thresholds_by_id[threshold.id] = threshold

    async def get_threshold(self, threshold_id: str) -> Threshold | None:
        return self.thresholds_by_id.get(threshold_id)

    async def thresholds(self) -> list[Threshold]:
        return sorted(self.thresholds_by_id.values(), key=lambda t: t.id)

    async def thresholds_for(self, motive: str, root_cause: str) -> list[Threshold]:
        return [
            t
            for t in await self.thresholds()
            if t.active and t.motive == motive and t.root_cause.value == root_cause
        ]

    async def lock_threshold(self, threshold_id: str) -> None:
        self.locked.append(threshold_id)

    def _matching(self, t: Threshold, after: datetime, until: datetime | None) -> list[RoutedCase]:
        found = [
            c
            for c in self._cases.cases.values()
            if c.root_cause is not None and t.matches(c) and _in(c.resolved_at, after, until)
        ]
        return sorted(found, key=lambda c: (c.resolved_at, str(c.id)))

    async def matching_cases(self, threshold: Threshold, after: datetime) -> list[RoutedCase]:
        return self._matching(threshold, after, None)

    async def count_matching(self, threshold: Threshold, after: datetime, until: datetime) -> int:
        return len(self._matching(threshold, after, until))

    async def next_number(self) -> str:
        self._numbers += 1
        return f"PRB-{self._numbers:06d}"

    async def add(self, problem: Problem) -> None:
        if any(
            p.threshold_id == problem.threshold_id and not p.is_resolved
            for p in self.problems.values()
        ):
            raise AssertionError("the unique index allows one unresolved problem per threshold")
        self.problems[problem.id] = problem

    async def get(self, problem_id: uuid.UUID, *, for_update: bool = False) -> Problem | None:
        return self.problems.get(problem_id)

    async def save(self, problem: Problem) -> None:
        if problem.id in self.problems:
            self.problems[problem.id] = problem

    async def unresolved_of(self, threshold_id: str) -> Problem | None:
        return next(
            (
                p
                for p in self.problems.values()
                if p.threshold_id == threshold_id and not p.is_resolved
            ),
            None,
        )

    async def unresolved_for_motive(self, motive: str) -> list[Problem]:
        found = [p for p in self.problems.values() if p.motive == motive and not p.is_resolved]
        return sorted(found, key=lambda p: (p.detected_at, p.number))

    async def unresolved_after_detections(self, motive: str) -> list[Problem]:
        for threshold in await self.thresholds():
            if threshold.active and threshold.motive == motive:
                await self.lock_threshold(threshold.id)
        return await self.unresolved_for_motive(motive)

    async def last_resolved_at(self, threshold_id: str) -> datetime | None:
        times = [
            p.resolved_at
            for p in self.problems.values()
            if p.threshold_id == threshold_id and p.resolved_at is not None
        ]
        return max(times) if times else None

    async def search(self, status: ProblemStatus | None, limit: int) -> list[Problem]:
        found = [p for p in self.problems.values() if status is None or p.status is status]
        found.sort(key=lambda p: (p.detected_at, p.number), reverse=True)
        return found[:limit]

    async def link(
        self,
        problem_id: uuid.UUID,
        case_id: uuid.UUID,
        reason: ProblemLinkReason,
        at: datetime,
        actor: str | None = None,
    ) -> bool:
        if (problem_id, case_id) in self.links:
            return False
        self.links[(problem_id, case_id)] = (reason, at, actor)
        return True

    async def unlink(self, problem_id: uuid.UUID, case_id: uuid.UUID) -> bool:
        return self.links.pop((problem_id, case_id), None) is not None

    async def linked(self, problem_id: uuid.UUID) -> list[LinkedCase]:
        found = [
            LinkedCase(self._cases.cases[cid], reason, at, actor)
            for (pid, cid), (reason, at, actor) in self.links.items()
            if pid == problem_id and cid in self._cases.cases
        ]
        return sorted(found, key=lambda link: (link.linked_at, link.case.number))

    async def of_case(self, case_id: uuid.UUID) -> list[Problem]:
        found = [self.problems[pid] for (pid, cid) in self.links if cid == case_id]
        return sorted(found, key=lambda p: (p.detected_at, p.number))

    async def magnitude(self, problem_id: uuid.UUID) -> Magnitude:
        cases = [link.case for link in await self.linked(problem_id)]
        ids = {c.id for c in cases}
        money: dict[str, Decimal] = {}
        for row in self._compensations.ledger_rows:
            if row.case_id in ids:
                money[row.currency] = money.get(row.currency, Decimal(0)) + row.amount
        breaches = sum(
            1
            for (cid, _, _), clock in self._clocks.rows.items()
            if cid in ids and clock.breached_at is not None
        )
        return Magnitude(
            cases=len(cases),
            open_cases=sum(1 for c in cases if c.is_open),
            customers=len({c.customer_id for c in cases if c.customer_id is not None}),
            compensation=dict(sorted(money.items())),
            sla_breaches=breaches,
        )


_BLAME = {
    "procedure": ("procedure_design_fault", "root_cause_procedure"),
    "policy": ("policy_hurts_customers", "root_cause_policy"),
}


class FakeProceduresRepository:
    def __init__(self, cases: FakeCasesRepository) -> None:
        self._cases = cases
        self.versions: list[Procedure] = []
        self.policies_by_code: dict[str, Policy] = {}
        self.threshold = ReviewThreshold()
        self.reviews: list[tuple[str, str, list[uuid.UUID], datetime]] = []

    async def lock(self) -> None:
        pass

    async def add_version(self, procedure: Procedure) -> None:
        if any((p.code, p.version) == (procedure.code, procedure.version) for p in self.versions):
            raise AssertionError("the primary key refuses a version twice")
        self.versions.append(procedure)

    async def latest(self, code: str) -> Procedure | None:
        found = [p for p in self.versions if p.code == code]
        return max(found, key=lambda p: p.version) if found else None

    async def version(self, code: str, version: int) -> Procedure | None:
        return next((p for p in self.versions if (p.code, p.version) == (code, version)), None)

    async def history(self, code: str) -> list[Procedure]:
        return sorted((p for p in self.versions if p.code == code), key=lambda p: p.version)

    async def current(self, motive: str | None = None) -> list[Procedure]:
        codes = sorted({p.code for p in self.versions})
        latest = [p for p in [await self.latest(c) for c in codes] if p is not None]
        return [p for p in latest if motive is None or p.motive == motive]

    async def add_policy(self, policy: Policy) -> bool:
        if policy.code in self.policies_by_code:
            return False
        self.policies_by_code[policy.code] = policy
        return True

    async def save_policy(self, policy: Policy) -> None:
        if policy.code in self.policies_by_code:
            self.policies_by_code[policy.code] = policy

    async def get_policy(self, code: str) -> Policy | None:
        return self.policies_by_code.get(code)

    async def policies(self) -> list[Policy]:
        return sorted(self.policies_by_code.values(), key=lambda p: p.code)

    async def review_threshold(self) -> ReviewThreshold:
        return self.threshold

    async def set_review_threshold(
        self, threshold: ReviewThreshold, at: datetime, actor: str | None
    ) -> None:
        self.threshold = threshold

    async def lock_subject(self, kind: str, code: str) -> None:
        pass

    async def blaming(self, kind: str, code: str, after: datetime) -> list[RoutedCase]:
        category, field = _BLAME[kind]
        found = [
            c
            for c in self._cases.cases.values()
            if c.root_cause == category and getattr(c, field) == code and _in(c.resolved_at, after)
        ]
        return sorted(found, key=lambda c: (c.resolved_at, str(c.id)))

    async def last_review(self, kind: str, code: str) -> datetime | None:
        times = [at for k, c, _, at in self.reviews if (k, c) == (kind, code)]
        return max(times) if times else None

    async def add_review(
        self, kind: str, code: str, case_ids: list[uuid.UUID], at: datetime
    ) -> None:
        self.reviews.append((kind, code, case_ids, at))


# --- compensations (like repository/compensations.py) -------------------------------------------


def ledger_entry(
    case_id: uuid.UUID, amount: str, currency: str, *, at: datetime | None = None
) -> LedgerEntry:
    """A ledger row for tests that only care about its case and money: a grant when positive,
    a reversal (of a grant the test does not need) when negative."""
    entry_id = uuid.uuid4()
    value = Decimal(amount)
    return LedgerEntry(
        entry_id=entry_id,
        entry_kind=EntryKind.GRANT if value > 0 else EntryKind.REVERSAL,
        grant_id=entry_id if value > 0 else uuid.uuid4(),
        case_id=case_id,
        customer_id=None,
        catalogue_code="voucher",
        catalogue_version=1,
        kind=CompensationKind.DISCOUNT,
        amount=value,
        currency=currency,
        recorded_at=at or datetime.now(UTC),
    )


class FakeCompensationsRepository:
    def __init__(self, cases: FakeCasesRepository) -> None:
        self._cases = cases
        self.catalogue: dict[tuple[str, int], CatalogueEntry] = {}
        self.limit_rows: dict[tuple[str, str], ApprovalLimit] = {}
        self.cap_rows: dict[str, CustomerCap] = {}
        self.request_rows: dict[uuid.UUID, ApprovalRequest] = {}
        self.ledger_rows: list[LedgerEntry] = []
        self.locked: list[uuid.UUID] = []

    async def add_entry(self, entry: CatalogueEntry) -> bool:
        if (entry.code, entry.version) in self.catalogue:
            return False
        self.catalogue[entry.code, entry.version] = entry
        return True

    async def entry(self, code: str, version: int | None = None) -> CatalogueEntry | None:
        found = [e for (c, v), e in self.catalogue.items() if c == code and version in (None, v)]
        return max(found, key=lambda e: e.version) if found else None

    async def entries(self) -> list[CatalogueEntry]:
        codes = sorted({code for code, _ in self.catalogue})
        return [e for code in codes if (e := await self.entry(code)) is not None]

    async def history(self, code: str) -> list[CatalogueEntry]:
        return sorted(
            (e for (c, _), e in self.catalogue.items() if c == code), key=lambda e: e.version
        )

    async def limits(self) -> list[ApprovalLimit]:
        return sorted(self.limit_rows.values(), key=lambda x: (LADDER.index(x.rank), x.currency))

    async def put_limit(self, limit: ApprovalLimit) -> None:
        self.limit_rows[limit.rank.value, limit.currency] = limit

    async def delete_limit(self, rank: Any, currency: str) -> bool:
        return self.limit_rows.pop((rank.value, currency), None) is not None

    async def caps(self) -> list[CustomerCap]:
        return [self.cap_rows[k] for k in sorted(self.cap_rows)]

    async def put_cap(self, cap: CustomerCap) -> None:
        self.cap_rows[cap.id] = cap

    async def delete_cap(self, cap_id: str) -> bool:
        return self.cap_rows.pop(cap_id, None) is not None

    async def add_request(self, request: ApprovalRequest) -> None:
        self.request_rows[request.id] = request

    async def request(
        self, request_id: uuid.UUID, *, for_update: bool = False
    ) -> ApprovalRequest | None:
        return self.request_rows.get(request_id)

    async def save_request(self, request: ApprovalRequest) -> None:
        if request.id in self.request_rows:
            self.request_rows[request.id] = request

    async def requests(
        self,
        *,
        status: RequestStatus | None,
        ranks: Sequence[Any] | None,
        case_id: uuid.UUID | None,
        limit: int,
    ) -> list[ApprovalRequest]:
        found = [
            r
            for r in self.request_rows.values()
            if (status is None or r.status == status)
            and (ranks is None or r.approver_rank in ranks)
            and (case_id is None or r.proposal.case_id == case_id)
        ]
        return sorted(found, key=lambda r: (r.requested_at, r.id))[:limit]

    async def lock_customer(self, customer_id: uuid.UUID) -> None:
        self.locked.append(customer_id)

    async def usage(self, customer_id: uuid.UUID, since: datetime) -> list[GrantUsage]:
        grants = [
            e
            for e in self.ledger_rows
            if e.entry_kind is EntryKind.GRANT
            and e.customer_id == customer_id
            and e.recorded_at >= since
        ]
        return [
            GrantUsage(
                g.entry_id,
                g.currency,
                g.recorded_at,
                g.amount + sum((r.amount for r in self._reversals(g.entry_id)), Decimal(0)),
            )
            for g in sorted(grants, key=lambda g: (g.recorded_at, g.entry_id))
        ]

    def _reversals(self, grant_id: uuid.UUID) -> list[LedgerEntry]:
        return sorted(
            (
                e
                for e in self.ledger_rows
                if e.grant_id == grant_id and e.entry_kind is EntryKind.REVERSAL
            ),
            key=lambda e: (e.recorded_at, e.entry_id),
        )

    def _with_number(self, entry: LedgerEntry) -> LedgerEntry:
        case = self._cases.cases.get(entry.case_id)
        return replace(entry, case_number=case.number if case else None)

    async def record(self, entry: LedgerEntry) -> None:
        # like the table: the number is read from the case, not stored
        self.ledger_rows.append(replace(entry, case_number=None))

    async def grant_entry(
        self, grant_id: uuid.UUID, *, for_update: bool = False
    ) -> LedgerEntry | None:
        for e in self.ledger_rows:
            if e.entry_id == grant_id and e.entry_kind is EntryKind.GRANT:
                return self._with_number(e)
        return None

    async def reversals_of(self, grant_id: uuid.UUID) -> list[LedgerEntry]:
        return [self._with_number(e) for e in self._reversals(grant_id)]

    def _matching(self, where: LedgerFilter) -> list[LedgerEntry]:
        return [
            e
            for e in self.ledger_rows
            if (where.case_id is None or e.case_id == where.case_id)
            and (where.customer_id is None or e.customer_id == where.customer_id)
            and (where.team is None or e.team == where.team)
            and (where.kind is None or e.kind == where.kind)
            and (where.since is None or e.recorded_at >= where.since)
            and (where.until is None or e.recorded_at < where.until)
        ]

    async def ledger(
        self, where: LedgerFilter, after: LedgerPosition | None, limit: int
    ) -> list[LedgerEntry]:
        found = sorted(
            self._matching(where), key=lambda e: (e.recorded_at, e.entry_id), reverse=True
        )
        if after is not None:
            found = [
                e
                for e in found
                if (e.recorded_at, e.entry_id) < (after.recorded_at, after.entry_id)
            ]
        return [self._with_number(e) for e in found[:limit]]

    async def totals(self, where: LedgerFilter) -> list[CurrencyTotal]:
        out: dict[str, CurrencyTotal] = {}
        for e in self._matching(where):
            t = out.get(e.currency, CurrencyTotal(e.currency, Decimal(0), Decimal(0), 0, 0))
            if e.entry_kind is EntryKind.GRANT:
                t = replace(t, granted=t.granted + e.amount, grants=t.grants + 1)
            else:
                t = replace(t, reversed=t.reversed - e.amount, reversals=t.reversals + 1)
            out[e.currency] = t
        return [out[c] for c in sorted(out)]
