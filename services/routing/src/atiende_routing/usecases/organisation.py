"""Managing the organisation: teams, agents and routing rules. Every change is checked whole
before anything is stored (nothing half-saved) and told as an event (team.changed,
agent.changed, routing_rule.changed). Availability changes that free or take away capacity are
followed by the assignment use cases (the caller runs `assignment.agent_changed`)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta

from atiende_contracts import Availability
from atiende_runtime.errors import Conflict, FieldError, Invalid

from ..domain.calendars import holidays_from_ical
from ..domain.errors import AgentNotFound, AlreadyExists, CaseNotFound, RuleNotFound, TeamNotFound
from ..domain.org import Agent, OutOfOffice, Team, with_holidays
from ..domain.rules import DEFAULT_RULE_ID, Explanation, RoutingRule, check
from ..repository import UnitOfWork

ICAL_HORIZON = timedelta(days=366 * 2)
"""How far ahead recurring holidays of an imported iCalendar file are expanded."""

# --- teams -------------------------------------------------------------------------------------


async def list_teams(uow: UnitOfWork) -> list[Team]:
    return await uow.org.list_teams()


async def get_team(uow: UnitOfWork, team_id: str) -> Team:
    team = await uow.org.get_team(team_id)
    if team is None:
        raise TeamNotFound(team_id)
    return team


async def _check_ladder(uow: UnitOfWork, team: Team) -> None:
    errors: list[FieldError] = []
    for rank, people in team.ladder.items():
        for person in people:
            if await uow.org.get_agent(person) is None:
                errors.append(
                    FieldError(f"ladder.{rank}", "agent", f"unknown agent {person!r} at {rank}")
                )
    if errors:
        raise Invalid(errors)


async def create_team(uow: UnitOfWork, team: Team, now: datetime, actor: str | None) -> Team:
    team = replace(team, version=1).validate()
    await _check_ladder(uow, team)
    if not await uow.org.add_team(team):
        raise AlreadyExists("team", team.id)
    await uow.emit(team.changed(now, actor), subject=team.id)
    return team


async def update_team(uow: UnitOfWork, team: Team, now: datetime, actor: str | None) -> Team:
    """Replace a team's settings (its id stays)."""
    current = await uow.org.get_team(team.id, lock=True)
    if current is None:
        raise TeamNotFound(team.id)
    team = replace(team, version=current.version + 1).validate()
    await _check_ladder(uow, team)
    if not team.active:
        users = [r.id for r in await uow.rules.current() if r.active and r.outcome.team == team.id]
        if users:
            raise Invalid.field(
                "active",
                "in_use",
                f"team {team.id} is the outcome of rule(s) {', '.join(users)}: change them first",
            )
    await uow.org.save_team(team)
    await uow.emit(team.changed(now, actor), subject=team.id)
    return team


async def import_holidays(
    uow: UnitOfWork, team_id: str, ical: bytes, now: datetime, actor: str | None
) -> tuple[Team, int]:
    """Add the holidays of an iCalendar file to the team's calendar (recurring ones expanded two
    years ahead); returns the team and how many dates were new."""
    current = await uow.org.get_team(team_id, lock=True)
    if current is None:
        raise TeamNotFound(team_id)
    until: date = (now + ICAL_HORIZON).date()
    found = holidays_from_ical(ical, until=until)
    calendar = with_holidays(current.calendar, found)
    added = len(calendar.holidays) - len(current.calendar.holidays)
    if added == 0:
        return current, 0
    team = replace(current, calendar=calendar, version=current.version + 1)
    await uow.org.save_team(team)
    await uow.emit(team.changed(now, actor), subject=team.id)
    return team, added


# --- agents ------------------------------------------------------------------------------------


async def list_agents(uow: UnitOfWork, team_id: str | None = None) -> list[Agent]:
    return await uow.org.list_agents(team_id)


async def get_agent(uow: UnitOfWork, agent_id: str) -> Agent:
    agent = await uow.org.get_agent(agent_id)
    if agent is None:
        raise AgentNotFound(agent_id)
    return agent


async def _check_references(uow: UnitOfWork, agent: Agent) -> None:
    errors: list[FieldError] = []
    for index, team_id in enumerate(agent.teams):
        team = await uow.org.get_team(team_id)
        if team is None or not team.active:
            errors.append(
                FieldError(f"teams[{index}]", "team", f"unknown or inactive team {team_id!r}")
            )
    substitute = agent.out_of_office.substitute_id if agent.out_of_office else None
    if substitute is not None and await uow.org.get_agent(substitute) is None:
        errors.append(
            FieldError(
                "out_of_office.substitute_id", "agent", f"unknown substitute agent {substitute!r}"
            )
        )
    if errors:
        raise Invalid(errors)


async def create_agent(uow: UnitOfWork, agent: Agent, now: datetime, actor: str | None) -> Agent:
    agent = replace(agent, version=1).validate()
    await _check_references(uow, agent)
    if not await uow.org.add_agent(agent):
        raise AlreadyExists("agent", agent.id)
    await uow.emit(agent.changed(now, actor), subject=agent.id)
    return agent


async def update_agent(
    uow: UnitOfWork, agent: Agent, now: datetime, actor: str | None
) -> tuple[Agent, Agent]:
    """Replace an agent's settings; returns (before, after) for assignment.agent_changed."""
    before = await uow.org.get_agent(agent.id, lock=True)
    if before is None:
        raise AgentNotFound(agent.id)
    agent = replace(agent, version=before.version + 1).validate()
    await _check_references(uow, agent)
    await uow.org.save_agent(agent)
    await uow.emit(agent.changed(now, actor), subject=agent.id)
    return before, agent


async def set_availability(
    uow: UnitOfWork,
    agent_id: str,
    availability: Availability,
    now: datetime,
    actor: str | None,
    out_of_office: OutOfOffice | None = None,
    clear_out_of_office: bool = False,
) -> tuple[Agent, Agent]:
    """Available / away / offline, optionally with an out-of-office period and substitute;
    returns (before, after) for assignment.agent_changed (which hands cases back)."""
    before = await uow.org.get_agent(agent_id, lock=True)
    if before is None:
        raise AgentNotFound(agent_id)
    ooo = None if clear_out_of_office else (out_of_office or before.out_of_office)
    agent = replace(
        before, availability=availability, out_of_office=ooo, version=before.version + 1
    ).validate()
    await _check_references(uow, agent)
    await uow.org.save_agent(agent)
    await uow.emit(agent.changed(now, actor), subject=agent.id)
    return before, agent


# --- routing rules -----------------------------------------------------------------------------


async def list_rules(uow: UnitOfWork) -> list[RoutingRule]:
    return await uow.rules.current()


async def get_rule(uow: UnitOfWork, rule_id: str, version: int | None = None) -> RoutingRule:
    rule = await (
        uow.rules.get(rule_id) if version is None else uow.rules.version(rule_id, version)
    )
    if rule is None:
        raise RuleNotFound(rule_id if version is None else f"{rule_id} v{version}")
    return rule


async def _check_outcome(uow: UnitOfWork, rule: RoutingRule) -> None:
    team = await uow.org.get_team(rule.outcome.team)
    if team is None or not team.active:
        raise Invalid.field(
            "outcome.team",
            "team",
            f"rule {rule.id}: unknown or inactive team {rule.outcome.team!r}",
        )


async def create_rule(
    uow: UnitOfWork, rule: RoutingRule, now: datetime, actor: str | None
) -> RoutingRule:
    await uow.rules.lock()
    current = await uow.rules.current()
    if rule.position <= 0:
        rule = replace(
            rule, position=max((r.position for r in current if not r.is_default), default=0) + 10
        )
    rule = replace(rule, version=1)
    if rule.is_default:
        raise AlreadyExists("rule", rule.id)
    check(rule, current)
    await _check_outcome(uow, rule)
    if not await uow.rules.add(rule, actor, now):
        raise AlreadyExists("rule", rule.id)
    await uow.emit(rule.changed(now, actor), subject=rule.id)
    return rule


async def update_rule(
    uow: UnitOfWork, rule: RoutingRule, now: datetime, actor: str | None
) -> RoutingRule:
    """A new version of the rule (older versions stay for the cases routed by them)."""
    await uow.rules.lock()
    before = await uow.rules.get(rule.id)
    if before is None:
        raise RuleNotFound(rule.id)
    if rule.is_default and not rule.active:
        raise Invalid.field("active", "default", "the default rule is always active")
    rule = replace(rule, version=before.version + 1)
    check(rule, await uow.rules.current())
    await _check_outcome(uow, rule)
    await uow.rules.save(rule, actor, now)
    await uow.emit(rule.changed(now, actor), subject=rule.id)
    return rule


async def delete_rule(
    uow: UnitOfWork, rule_id: str, now: datetime, actor: str | None
) -> RoutingRule:
    if rule_id == DEFAULT_RULE_ID:
        raise Conflict(
            "the default rule cannot be deleted: it routes every case no other rule takes",
            title="Default rule is permanent",
        )
    await uow.rules.lock()
    rule = await uow.rules.get(rule_id)
    if rule is None:
        raise RuleNotFound(rule_id)
    await uow.rules.delete(rule_id, now)
    gone = replace(rule, active=False)
    await uow.emit(gone.changed(now, actor), subject=rule_id)
    return gone


async def routing_explanation(
    uow: UnitOfWork, case_id: uuid.UUID
) -> list[tuple[datetime, Explanation]]:
    """Every routing decision taken for the case (the last one is in force)."""
    decisions = await uow.rules.decisions(case_id)
    if not decisions:
        raise CaseNotFound(case_id)
    return decisions
