"""/agents: agents with rank, teams, skills, capacity, availability and out-of-office (admin);
PUT /agents/{id}/availability (the agent, a supervisor or an admin) hands cases back at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from atiende_contracts import Availability, Rank
from atiende_runtime.bodies import RequestModel
from atiende_runtime.params import EMAIL_MAX_LENGTH, EMAIL_PATTERN, email_schema
from atiende_runtime.problems import Problem

from ...domain.org import SLUG, Agent, Capacity, OutOfOffice, Skills
from ...repository import PostgresUnitOfWork
from ...usecases import assignment, organisation
from .deps import Admin, Anyone, Runtime, actor_of

router = APIRouter(tags=["agents"])


class SkillsIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    languages: list[str] = []
    motives: list[str] = []
    channels: list[str] = []
    products: list[str] = []

    def skills(self) -> Skills:
        return Skills.from_json(self.model_dump())


class CapacityIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    total: int = Field(default=5, ge=1, description="Open cases at once (≥ 1)")
    per_channel: dict[str, Annotated[int, Field(ge=1)]] = Field(
        default={}, description="Per channel limit (each ≥ 1)"
    )


class OutOfOfficeIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    starts: datetime
    ends: datetime
    substitute_id: str | None = None

    def value(self) -> OutOfOffice:
        return OutOfOffice(self.starts, self.ends, self.substitute_id)


class AgentIn(RequestModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"\S")
    email: str | None = Field(
        default=None,
        min_length=1,
        max_length=EMAIL_MAX_LENGTH,
        pattern=EMAIL_PATTERN,
        json_schema_extra=email_schema,
    )
    teams: list[str] = Field(min_length=1, description="At least one")
    rank: Rank = Rank.AGENT
    skills: SkillsIn = SkillsIn()
    capacity: CapacityIn = CapacityIn()
    availability: Availability = Availability.OFFLINE
    out_of_office: OutOfOfficeIn | None = None
    active: bool = True

    def agent(self, agent_id: str) -> Agent:
        return Agent(
            id=agent_id,
            name=self.name,
            email=self.email,
            teams=tuple(dict.fromkeys(self.teams)),
            rank=self.rank,
            skills=self.skills.skills(),
            capacity=Capacity(self.capacity.total, dict(self.capacity.per_channel)),
            availability=self.availability,
            out_of_office=self.out_of_office.value() if self.out_of_office else None,
            active=self.active,
        )


class NewAgent(AgentIn):
    id: str = Field(
        max_length=63,
        pattern=SLUG.pattern,
        description="Slug: lower-case letters, digits, - and _",
    )


class AvailabilityIn(RequestModel):
    model_config = ConfigDict(extra="forbid")

    availability: Availability
    out_of_office: OutOfOfficeIn | None = Field(
        default=None, description="Set an out-of-office period (with a substitute)"
    )
    clear_out_of_office: bool = False


class AgentOut(BaseModel):
    id: str
    name: str
    email: str | None
    teams: list[str]
    rank: Rank
    skills: dict[str, list[str]]
    capacity: CapacityIn
    availability: Availability
    out_of_office: OutOfOfficeIn | None
    active: bool
    version: int

    @classmethod
    def of(cls, agent: Agent) -> AgentOut:
        ooo = agent.out_of_office
        return cls(
            id=agent.id,
            name=agent.name,
            email=agent.email,
            teams=list(agent.teams),
            rank=agent.rank,
            skills=agent.skills.as_json(),
            capacity=CapacityIn(
                total=agent.capacity.total, per_channel=dict(agent.capacity.per_channel)
            ),
            availability=agent.availability,
            out_of_office=OutOfOfficeIn(
                starts=ooo.starts, ends=ooo.ends, substitute_id=ooo.substitute_id
            )
            if ooo
            else None,
            active=agent.active,
            version=agent.version,
        )


class MovedOut(BaseModel):
    case_id: str
    team: str
    agent_id: str | None
    reason: str


class AgentChangedOut(BaseModel):
    agent: AgentOut
    moved: list[MovedOut] = Field(description="Cases that changed hands because of the change")


def _moved(moved: list[assignment.Moved]) -> list[MovedOut]:
    return [
        MovedOut(case_id=str(m.case_id), team=m.team, agent_id=m.agent_id, reason=m.reason)
        for m in moved
    ]


@router.get("/agents", response_model=list[AgentOut], summary="Agents, optionally of one team")
async def list_agents(runtime: Runtime, _: Anyone, team: str | None = None) -> list[AgentOut]:
    async with runtime.unit_of_work() as tx:
        agents = await organisation.list_agents(PostgresUnitOfWork(tx), team)
    return [AgentOut.of(a) for a in agents]


@router.get(
    "/agents/{agent_id}",
    response_model=AgentOut,
    summary="An agent",
    responses={404: {"description": "Unknown agent"}},
)
async def get_agent(agent_id: str, runtime: Runtime, _: Anyone) -> AgentOut:
    async with runtime.unit_of_work() as tx:
        return AgentOut.of(await organisation.get_agent(PostgresUnitOfWork(tx), agent_id))


@router.post(
    "/agents",
    response_model=AgentChangedOut,
    status_code=201,
    summary="Create an agent; emits agent.changed (and case.assigned for queued cases they take)",
    responses={409: {"description": "The id is taken"}, 422: {"description": "Invalid agent"}},
)
async def create_agent(body: NewAgent, runtime: Runtime, who: Admin) -> AgentChangedOut:
    agent = body.agent(body.id)
    at = datetime.now(UTC)
    async with runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        created = await organisation.create_agent(uow, agent, at, actor_of(who))
        moved = (
            await assignment.agent_changed(uow, None, created, at) if created.can_work(at) else []
        )
    return AgentChangedOut(agent=AgentOut.of(created), moved=_moved(moved))


@router.put(
    "/agents/{agent_id}",
    response_model=AgentChangedOut,
    summary="Replace an agent's settings; emits agent.changed; hands cases back if they can no"
    " longer work",
    responses={404: {"description": "Unknown agent"}, 422: {"description": "Invalid agent"}},
)
async def update_agent(
    agent_id: str, body: AgentIn, runtime: Runtime, who: Admin
) -> AgentChangedOut:
    agent = body.agent(agent_id)
    at = datetime.now(UTC)
    async with runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        before, after = await organisation.update_agent(uow, agent, at, actor_of(who))
        moved = await assignment.agent_changed(uow, before, after, at)
    return AgentChangedOut(agent=AgentOut.of(after), moved=_moved(moved))


@router.put(
    "/agents/{agent_id}/availability",
    response_model=AgentChangedOut,
    summary="Available, away or offline (and out-of-office); away/offline hands the agent's"
    " open cases back to the queue or the substitute, available takes from the queue",
    responses={404: {"description": "Unknown agent"}, 422: {"description": "Invalid"}},
)
async def set_availability(
    agent_id: str, body: AvailabilityIn, runtime: Runtime, who: Anyone
) -> AgentChangedOut:
    if who.subject != agent_id and not who.roles & {"*", "supervisor", "admin"}:
        raise Problem(403, "Forbidden", "an agent sets only their own availability")
    at = datetime.now(UTC)
    async with runtime.unit_of_work() as tx:
        uow = PostgresUnitOfWork(tx)
        before, after = await organisation.set_availability(
            uow,
            agent_id,
            body.availability,
            at,
            actor_of(who),
            out_of_office=body.out_of_office.value() if body.out_of_office else None,
            clear_out_of_office=body.clear_out_of_office,
        )
        moved = await assignment.agent_changed(uow, before, after, at)
    return AgentChangedOut(agent=AgentOut.of(after), moved=_moved(moved))
