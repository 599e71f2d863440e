"""Routing a case (rules → team, priority, policy, skills) and assigning it inside the team:
to the agent the team's strategy picks, or to the team's queue until capacity frees. The lifecycle
use cases call these; they import no other use-case module."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from atiende_contracts import CaseAssigned, Rank
from atiende_runtime.errors import Invalid

from ..domain.assignment import AgentLoad, CaseNeeds, WorkItem, choose_agent, why_not
from ..domain.errors import AgentNotFound
from ..domain.org import Agent, Skills, Strategy, Team
from ..domain.rules import CaseFacts, Explanation, explain
from ..repository import UnitOfWork

QUEUE_BATCH = 100
"""How many waiting cases one assign_next looks at (capacity rarely frees for more at once)."""


@dataclass(frozen=True)
class RoutingOutcome:
    """Where the rules sent a case and who (if anyone) took it."""

    team: str
    priority: str
    policy_id: str | None
    skills: Skills
    rule_id: str
    rule_version: int
    explanation: Explanation
    agent: Agent | None
    reason: str
    """routed (by the strategy), sticky (the customer's previous agent) or queued."""
    item: WorkItem
    """Who holds the case now (stored by route_case unless the caller stores it)."""
    team_found: Team | None
    """The outcome's team as read (and locked) while choosing; None if routing knows no such
    team."""


@dataclass(frozen=True)
class Moved:
    """A case that changed hands without a lifecycle command (queue → agent, agent → queue)."""

    case_id: uuid.UUID
    team: str
    agent_id: str | None
    previous_agent_id: str | None
    reason: str


def _customer(case: object) -> uuid.UUID | None:
    value = getattr(case, "customer_id", None)
    return value if isinstance(value, uuid.UUID) else None


async def route_case(
    uow: UnitOfWork, case: object, now: datetime, *, hold: bool = True
) -> RoutingOutcome:
    """Apply the rules to the case (its facts read by name) and choose its agent. Records the
    decision (for the explanation endpoint) and who holds the case; emits nothing — the caller
    applies the outcome to the case and tells case.assigned. `hold=False`: the caller stores
    `outcome.item` itself, once it knows the case's deadline (one write instead of two)."""
    case_id: uuid.UUID = getattr(case, "id")  # noqa: B009 — any case-like object
    facts = CaseFacts.of(case)
    explanation = explain(facts, await uow.rules.current())
    outcome = explanation.outcome
    item = WorkItem(
        case_id=case_id,
        case_number=str(getattr(case, "number", "")),
        team=outcome.team,
        queued_at=now,
        customer_id=_customer(case),
        channel=facts["channel"],
        language=facts["language"],
        motive=facts["motive"],
        priority=outcome.priority,
        required=outcome.skills,
        rule_id=explanation.rule_id,
        rule_version=explanation.version,
        due_at=getattr(case, "sla_due_at", None),
    )
    agent, reason, team = await _choose(uow, item, now)
    if agent is not None:
        item = replace(item, agent_id=agent.id, assigned_at=now)
        await uow.org.mark_assigned(agent.id, now)
    if hold:
        await uow.work.put(item)
    await uow.rules.record_decision(case_id, explanation, now)
    return RoutingOutcome(
        team=outcome.team,
        priority=outcome.priority,
        policy_id=outcome.policy_id,
        skills=outcome.skills,
        rule_id=explanation.rule_id,
        rule_version=explanation.version,
        explanation=explanation,
        agent=agent,
        reason=reason if agent else "queued",
        item=item,
        team_found=team,
    )


async def _choose(
    uow: UnitOfWork, item: WorkItem, now: datetime, exclude: Iterable[str] = ()
) -> tuple[Agent | None, str, Team | None]:
    """The agent the team's strategy picks (None: the queue), why, and the team as read."""
    team = await uow.org.get_team(item.team, lock=True)
    if team is None or not team.active:
        return None, "queued", team
    loads = await uow.org.loads(item.team)
    if not loads:
        return None, "queued", team  # nobody to choose from: the customer's history is moot
    previous = (
        await uow.work.previous_agent(item.customer_id, item.case_id) if item.customer_id else None
    )
    choice = choose_agent(team.strategy, team.id, loads, item.needs(previous, exclude), now)
    return (choice.agent, choice.reason, team) if choice else (None, "queued", team)


async def assign_next(
    uow: UnitOfWork, team: str, now: datetime, *, exclude: Iterable[str] = ()
) -> list[Moved]:
    """Give the team's waiting cases, soonest due first, to agents with free capacity; each
    change emits case.assigned. Called when capacity may have freed (an agent came back, a case
    was resolved or closed, capacity grew)."""
    found = await uow.org.get_team(team, lock=True)
    if found is None or not found.active:
        return []
    loads = {load.agent.id: load for load in await uow.org.loads(team)}
    if not loads:
        return []
    moved: list[Moved] = []
    for item in await uow.work.queue(team, QUEUE_BATCH):
        if not any(why_not(load, CaseNeeds(), team, now) is None for load in loads.values()):
            break  # nobody can take anything more: the rest keep waiting
        previous = (
            await uow.work.previous_agent(item.customer_id, item.case_id)
            if item.customer_id
            else None
        )
        choice = choose_agent(
            found.strategy, team, list(loads.values()), item.needs(previous, exclude), now
        )
        if choice is None:
            continue  # this case needs someone else; a later one may fit
        loads[choice.agent.id] = _plus_one(loads[choice.agent.id], item.channel, now)
        moved.append(await _give(uow, item, choice.agent, "routed", now))
    return moved


def _plus_one(load: AgentLoad, channel: str | None, now: datetime) -> AgentLoad:
    by_channel = dict(load.open_by_channel)
    if channel is not None:
        by_channel[channel] = by_channel.get(channel, 0) + 1
    return replace(
        load, open_cases=load.open_cases + 1, open_by_channel=by_channel, last_assigned_at=now
    )


async def _give(
    uow: UnitOfWork, item: WorkItem, agent: Agent | None, reason: str, now: datetime
) -> Moved:
    """Move the case to `agent` (None: back to the queue), on the case too, and tell it."""
    agent_id = agent.id if agent else None
    await uow.work.set_agent(item.case_id, agent_id, now)
    if agent is not None:
        await uow.org.mark_assigned(agent.id, now)
    case = await uow.cases.set_agent(item.case_id, item.team, agent_id, now)
    await uow.emit(
        CaseAssigned(
            case_id=item.case_id,
            case_number=case.number if case else item.case_number,
            team=item.team,
            agent_id=agent_id,
            agent_email=agent.email if agent else None,
            agent_name=agent.name if agent else None,
            assigned_at=now,
            priority=item.priority,
            rule_id=item.rule_id,
            rule_version=item.rule_version,
            reason=reason,
            previous_agent_id=item.agent_id,
        ),
        subject=item.case_id,
    )
    return Moved(item.case_id, item.team, agent_id, item.agent_id, reason)


async def hand_back(uow: UnitOfWork, agent_id: str, now: datetime) -> list[Moved]:
    """The agent went away, offline or out of office: each open case they hold goes to their
    substitute (when out of office, if the substitute can take it) or back to its team's queue,
    and the queues are offered to the others at once."""
    agent = await uow.org.get_agent(agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    held = await uow.work.held_by(agent_id)
    substitute_id = agent.substitute_at(now)
    moved: list[Moved] = []
    for item in held:
        taker = await _substitute_for(uow, item, substitute_id, now) if substitute_id else None
        if taker is not None:
            moved.append(await _give(uow, item, taker, "substitute", now))
        else:
            moved.append(await _give(uow, item, None, "returned", now))
    for team in sorted({m.team for m in moved if m.agent_id is None}):
        moved.extend(await assign_next(uow, team, now, exclude={agent_id}))
    return moved


async def _substitute_for(
    uow: UnitOfWork, item: WorkItem, substitute_id: str, now: datetime
) -> Agent | None:
    loads = [load for load in await uow.org.loads(item.team) if load.agent.id == substitute_id]
    needs = item.needs(previous_agent_id=substitute_id)
    choice = choose_agent(Strategy.ROUND_ROBIN, item.team, loads, needs, now)
    return choice.agent if choice else None


async def agent_changed(
    uow: UnitOfWork, before: Agent | None, after: Agent, now: datetime
) -> list[Moved]:
    """After an agent's change: if they can no longer work, hand their cases back; if they can
    (maybe with more capacity, or back from away), offer them their teams' queues."""
    if not after.can_work(now):
        return await hand_back(uow, after.id, now)
    moved: list[Moved] = []
    left = set(before.teams) - set(after.teams) if before else set()
    if left:
        # cases of a team they left go back to that team's queue
        for item in await uow.work.held_by(after.id):
            if item.team in left:
                moved.append(await _give(uow, item, None, "returned", now))
    for team in sorted({*after.teams, *left}):
        moved.extend(await assign_next(uow, team, now))
    return moved


async def release(uow: UnitOfWork, case_id: uuid.UUID, now: datetime) -> list[Moved]:
    """The case was resolved, closed or merged: it no longer counts against its agent, and the
    capacity it frees goes to the team's queue at once."""
    item = await uow.work.close(case_id, now)
    if item is None:
        return []
    return await assign_next(uow, item.team, now)


async def set_due(uow: UnitOfWork, case_id: uuid.UUID, due_at: datetime | None) -> None:
    """The case's earliest SLA deadline (the team queue is ordered by it)."""
    await uow.work.set_due(case_id, due_at)


async def check_agent(uow: UnitOfWork, team: str, agent_id: str, now: datetime) -> Agent:
    """The agent, if they may be given a case of `team` by hand (capacity may be exceeded by
    hand, availability too: a supervisor decides)."""
    agent = await uow.org.get_agent(agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    if not agent.active:
        raise Invalid.field("agent_id", "active", f"agent {agent_id} is inactive")
    if team not in agent.teams:
        raise Invalid.field(
            "agent_id",
            "team",
            f"agent {agent_id} is not in team {team} (their teams: {', '.join(agent.teams)})",
        )
    return agent


def _new_item(case: object, team: str, now: datetime) -> WorkItem:
    facts = CaseFacts.of(case)
    return WorkItem(
        case_id=getattr(case, "id"),  # noqa: B009 — any case-like object
        case_number=str(getattr(case, "number", "")),
        team=team,
        queued_at=now,
        customer_id=_customer(case),
        channel=facts["channel"],
        language=facts["language"],
        motive=facts["motive"],
        priority=str(getattr(case, "priority", None) or "normal"),
        rule_id=getattr(case, "rule_id", None),
        rule_version=getattr(case, "rule_version", None),
        due_at=getattr(case, "sla_due_at", None),
    )


async def manual(
    uow: UnitOfWork, case: object, team: str, agent_id: str | None, now: datetime
) -> Agent | None:
    """A claim, assignment or transfer by hand: `agent_id` takes the case (checked), or, when
    None, the team's strategy chooses now (None: the case waits in the team's queue). Records
    who holds it; emits nothing (the caller tells case.assigned)."""
    case_id: uuid.UUID = getattr(case, "id")  # noqa: B009 — any case-like object
    item = await uow.work.get(case_id)
    if item is None or item.closed_at is not None:
        item = _new_item(case, team, now)
    item = replace(item, team=team, agent_id=None, assigned_at=None)
    if agent_id is not None:
        agent: Agent | None = await check_agent(uow, team, agent_id, now)
    else:
        agent, _, _ = await _choose(uow, item, now)
    await _hold(uow, item, agent, now)
    return agent


async def _hold(uow: UnitOfWork, item: WorkItem, agent: Agent | None, now: datetime) -> None:
    if agent is not None:
        item = replace(item, agent_id=agent.id, assigned_at=now)
        await uow.org.mark_assigned(agent.id, now)
    await uow.work.put(item)


async def hold(
    uow: UnitOfWork, case: object, team: str, agent: Agent | None, now: datetime
) -> None:
    """A new case given to the person the caller chose (None: the team's queue), who may stand
    above the team's agents (a recovery case going to a supervisor). Emits nothing."""
    await _hold(uow, _new_item(case, team, now), agent, now)


async def responsible(
    uow: UnitOfWork, team_id: str | None, rank: Rank, now: datetime
) -> Agent | None:
    """Who answers for an escalated case at `rank`: the first person listed at that rank in the
    team's ladder who can work now, else the first of that rank among the team's available
    agents; None if nobody is there."""
    if team_id is None:
        return None
    team = await uow.org.get_team(team_id)
    if team is None:
        return None
    for person in team.responsible_candidates(rank):
        agent = await uow.org.get_agent(person)
        if agent is not None and agent.can_work(now):
            return agent
    members: Sequence[Agent] = await uow.org.list_agents(team_id)
    for agent in members:
        if agent.rank is rank and agent.can_work(now):
            return agent
    return None
