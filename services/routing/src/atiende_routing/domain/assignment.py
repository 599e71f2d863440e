"""Who inside a team takes a case: pure choice over the agents' current load. Only agents who can
work now (available, not out of office) and are under capacity (total and for the case's channel)
and have the skills the rule requires are candidates; the agent of the customer's previous case
comes first; then the team's strategy decides. No candidate: None, the case waits in the queue."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .org import Agent, Skills, Strategy

EPOCH = datetime.min


@dataclass(frozen=True)
class AgentLoad:
    """An agent with what they hold now."""

    agent: Agent
    open_cases: int = 0
    open_by_channel: Mapping[str, int] = field(default_factory=dict)
    last_assigned_at: datetime | None = None

    @property
    def ratio(self) -> float:
        return self.open_cases / self.agent.capacity.total


@dataclass(frozen=True)
class CaseNeeds:
    """What the choice looks at in a case."""

    channel: str | None = None
    language: str | None = None
    motive: str | None = None
    required: Skills = field(default_factory=Skills)
    previous_agent_id: str | None = None
    """The agent of the customer's previous case (sticky assignment)."""
    exclude: frozenset[str] = frozenset()
    """Agents not to choose (e.g. the one handing the case back)."""


@dataclass(frozen=True)
class Choice:
    agent: Agent
    reason: str
    """"sticky" or the strategy's name."""


def under_capacity(load: AgentLoad, channel: str | None) -> bool:
    if load.open_cases >= load.agent.capacity.total:
        return False
    if channel is not None and channel in load.agent.capacity.per_channel:
        return load.open_by_channel.get(channel, 0) < load.agent.capacity.per_channel[channel]
    return True


def why_not(load: AgentLoad, needs: CaseNeeds, team: str, now: datetime) -> str | None:
    """Why this agent cannot take the case now, or None if they can."""
    agent = load.agent
    if agent.id in needs.exclude:
        return "excluded"
    if team not in agent.teams:
        return f"not in team {team}"
    if not agent.active:
        return "inactive"
    if agent.away_at(now):
        return "out of office"
    if not agent.can_work(now):
        return agent.availability.value
    if not under_capacity(load, needs.channel):
        return "at capacity"
    missing = agent.skills.missing(needs.required)
    if missing:
        return "lacks " + ", ".join(missing)
    return None


def candidates(
    loads: Iterable[AgentLoad], needs: CaseNeeds, team: str, now: datetime
) -> list[AgentLoad]:
    return [load for load in loads if why_not(load, needs, team, now) is None]


def _longest_waiting(load: AgentLoad) -> tuple[datetime, str]:
    last = load.last_assigned_at
    # never assigned waits longest; compare naive and aware times safely
    return (last.replace(tzinfo=None) if last else EPOCH, load.agent.id)


def choose_agent(
    strategy: Strategy,
    team: str,
    loads: Sequence[AgentLoad],
    needs: CaseNeeds,
    now: datetime,
) -> Choice | None:
    """The agent who takes the case, or None (it waits in the team's queue)."""
    able = candidates(loads, needs, team, now)
    if not able:
        return None
    if needs.previous_agent_id is not None:
        for load in able:
            if load.agent.id == needs.previous_agent_id:
                return Choice(load.agent, "sticky")
    if strategy is Strategy.ROUND_ROBIN:
        best = min(able, key=_longest_waiting)
    elif strategy is Strategy.LEAST_LOADED:
        best = min(able, key=lambda load: (load.ratio, _longest_waiting(load)))
    else:
        best = min(
            able,
            key=lambda load: (
                needs.language is None or needs.language not in load.agent.skills.languages,
                needs.motive is None or needs.motive not in load.agent.skills.motives,
                load.ratio,
                _longest_waiting(load),
            ),
        )
    return Choice(best.agent, strategy.value)


@dataclass(frozen=True)
class WorkItem:
    """A case while it is open, as assignment sees it: its team and who holds it (agent_id None:
    waiting in the team's queue, ordered by due_at then queued_at)."""

    case_id: uuid.UUID
    case_number: str
    team: str
    queued_at: datetime
    agent_id: str | None = None
    customer_id: uuid.UUID | None = None
    channel: str | None = None
    language: str | None = None
    motive: str | None = None
    priority: str = "normal"
    required: Skills = field(default_factory=Skills)
    rule_id: str | None = None
    rule_version: int | None = None
    due_at: datetime | None = None
    assigned_at: datetime | None = None
    closed_at: datetime | None = None

    def needs(self, previous_agent_id: str | None = None, exclude: Iterable[str] = ()) -> CaseNeeds:
        return CaseNeeds(
            channel=self.channel,
            language=self.language,
            motive=self.motive,
            required=self.required,
            previous_agent_id=previous_agent_id,
            exclude=frozenset(exclude),
        )
