"""In memory: routing's unit of work and repositories, for unit tests without infrastructure.
tests/integration/test_routing_repository_contract.py holds them to the PostgreSQL behaviour."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from atiende_contracts import EventData
from atiende_routing.domain.assignment import AgentLoad, WorkItem
from atiende_routing.domain.cases import RoutedCase
from atiende_routing.domain.commitments import Commitment, CommitmentState
from atiende_routing.domain.escalation import EscalationRecord
from atiende_routing.domain.org import Agent, Team
from atiende_routing.domain.phrasebook import Phrase
from atiende_routing.domain.rules import Explanation, Outcome, RoutingRule
from atiende_routing.domain.steps import Step, StepRecord
from atiende_routing.repository.cases import QueueFilter, QueuePosition, TimelineEntry
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

    async def add_timeline(self, entry: TimelineEntry) -> None:
        self.entries.append(entry)

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

    async def save(self, clock: Any) -> None:
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

    async def schedule(self, timer: Any) -> None:
        for row in self.rows.values():
            if row.fired_at is None and (row.case_id, row.kind, row.ref) == (
                timer.case_id,
                timer.kind,
                timer.ref,
            ):
                self.rows[row.id] = replace(row, due_at=timer.due_at, payload=timer.payload)
                return
        self.rows[timer.id] = timer

    async def cancel(self, case_id: uuid.UUID, *, kinds: Any, ref_prefix: str = "") -> int:
        gone = [
            t.id
            for t in self.rows.values()
            if t.case_id == case_id
            and t.kind in kinds
            and t.fired_at is None
            and t.ref.startswith(ref_prefix)
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
