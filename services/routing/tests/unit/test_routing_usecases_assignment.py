import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import Availability, CaseAssigned, Rank
from atiende_routing.domain.errors import AgentNotFound
from atiende_routing.domain.org import Agent, Capacity, OutOfOffice, Skills, Strategy, Team
from atiende_routing.domain.rules import Condition, Operator, Outcome, RoutingRule
from atiende_routing.usecases import assignment, organisation
from atiende_runtime.errors import Invalid

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
CUSTOMER = uuid.UUID(int=7)


@dataclass(frozen=True)
class Case:
    """Any object with a case's facts: route_case reads them by name."""

    id: uuid.UUID
    number: str = "AT-2026-000001"
    customer_id: uuid.UUID | None = None
    type: str = "complaint"
    channel: str = "email"
    language: str = "es"
    motive: str | None = None


def case(n, **facts):
    return Case(uuid.UUID(int=n), f"AT-2026-{n:06d}", **facts)


def available(agent_id, *, teams=("general",), capacity=2, languages=(), **fields):
    return Agent(
        agent_id,
        agent_id.title(),
        email=f"{agent_id}@example.com",
        teams=teams,
        availability=Availability.AVAILABLE,
        capacity=Capacity(capacity),
        skills=Skills(languages=frozenset(languages)),
        **fields,
    )


async def with_agents(*agents, strategy=Strategy.ROUND_ROBIN):
    uow = FakeUnitOfWork()
    for team in ("general", "intl", "billing"):
        uow.org.teams[team] = Team(team, team.title(), strategy=strategy)
    for agent in agents:
        await organisation.create_agent(uow, agent, NOW, "admin")
    uow.emitted.clear()
    return uow


def assigned(uow):
    return [e for e in uow.emitted if isinstance(e, CaseAssigned)]


async def test_out_of_the_box_every_case_goes_to_general_and_waits_without_agents():
    uow = FakeUnitOfWork()
    outcome = await assignment.route_case(uow, case(1), NOW)

    assert (outcome.team, outcome.priority, outcome.rule_id, outcome.rule_version) == (
        "general",
        "normal",
        "default",
        1,
    )
    assert (outcome.agent, outcome.reason) == (None, "queued")
    assert uow.work.items[uuid.UUID(int=1)].agent_id is None
    assert uow.rules.decided[uuid.UUID(int=1)][0][1].rule_id == "default"
    assert uow.emitted == []  # the lifecycle tells case.assigned, not route_case


async def test_a_rule_routes_to_a_team_and_its_skilled_available_agent():
    uow = await with_agents(
        available("ana", teams=("intl",)),
        available("bob", teams=("intl",), languages={"en"}),
    )
    await organisation.create_rule(
        uow,
        RoutingRule(
            "english",
            "English speakers",
            (Condition("language", Operator.EQUALS, ("en",)),),
            Outcome("intl", "high", "gold", Skills(languages=frozenset({"en"}))),
        ),
        NOW,
        "admin",
    )
    outcome = await assignment.route_case(uow, case(1, language="en"), NOW)

    assert (outcome.team, outcome.priority, outcome.policy_id, outcome.rule_id) == (
        "intl",
        "high",
        "gold",
        "english",
    )
    assert outcome.agent is not None
    assert outcome.agent.id == "bob"
    assert [v.rule_id for v in outcome.explanation.verdicts] == ["english"]

    spanish = await assignment.route_case(uow, case(2, language="es"), NOW)
    assert (spanish.team, spanish.rule_id) == ("general", "default")
    assert spanish.explanation.verdicts[0].failed == ("language = en: the case's language is es",)


async def test_round_robin_spreads_and_capacity_queues_the_rest():
    uow = await with_agents(available("ana", capacity=1), available("bea", capacity=1))
    first = await assignment.route_case(uow, case(1), NOW)
    second = await assignment.route_case(uow, case(2), NOW + timedelta(seconds=1))
    third = await assignment.route_case(uow, case(3), NOW + timedelta(seconds=2))

    assert {first.agent.id, second.agent.id} == {"ana", "bea"}
    assert third.agent is None
    assert third.reason == "queued"


async def test_a_queued_case_is_assigned_the_moment_capacity_frees():
    uow = await with_agents(available("ana", capacity=1))
    await assignment.route_case(uow, case(1), NOW)
    await assignment.route_case(uow, case(2), NOW)
    assert uow.work.items[uuid.UUID(int=2)].agent_id is None

    moved = await assignment.release(uow, uuid.UUID(int=1), NOW + timedelta(minutes=5))

    assert [(m.case_id, m.agent_id, m.reason) for m in moved] == [
        (uuid.UUID(int=2), "ana", "routed")
    ]
    (told,) = assigned(uow)
    assert (told.case_id, told.team, told.agent_id, told.agent_email, told.reason) == (
        uuid.UUID(int=2),
        "general",
        "ana",
        "ana@example.com",
        "routed",
    )
    assert await assignment.release(uow, uuid.UUID(int=1), NOW) == []  # only once


async def test_the_queue_gives_the_soonest_due_case_first():
    uow = await with_agents(available("ana", capacity=1))
    await assignment.route_case(uow, case(1), NOW)  # ana is now full
    await assignment.route_case(uow, case(2), NOW)
    await assignment.route_case(uow, case(3), NOW + timedelta(seconds=1))
    await assignment.set_due(uow, uuid.UUID(int=3), NOW + timedelta(hours=1))
    await assignment.set_due(uow, uuid.UUID(int=2), NOW + timedelta(hours=4))

    moved = await assignment.release(uow, uuid.UUID(int=1), NOW)
    assert [m.case_id for m in moved] == [uuid.UUID(int=3)]


async def test_sticky_to_the_agent_of_the_customers_previous_case():
    uow = await with_agents(available("ana", capacity=5), available("bea", capacity=5))
    first = await assignment.route_case(uow, case(1, customer_id=CUSTOMER), NOW)
    again = await assignment.route_case(
        uow, case(2, customer_id=CUSTOMER), NOW + timedelta(hours=1)
    )
    assert (again.agent.id, again.reason) == (first.agent.id, "sticky")


async def test_an_agent_going_offline_hands_cases_back_to_the_queue_and_to_others():
    uow = await with_agents(available("ana", capacity=5), available("bea", capacity=1))
    await assignment.route_case(uow, case(1), NOW)  # ana (never assigned, alphabetical)
    await assignment.route_case(uow, case(2), NOW)  # bea
    await assignment.route_case(uow, case(3), NOW)  # ana
    uow.emitted.clear()

    before, after = await organisation.set_availability(
        uow, "ana", Availability.OFFLINE, NOW + timedelta(minutes=1), "ana"
    )
    moved = await assignment.agent_changed(uow, before, after, NOW + timedelta(minutes=1))

    returned = [(m.case_id.int, m.agent_id, m.reason) for m in moved]
    assert returned == [(1, None, "returned"), (3, None, "returned")]  # bea is full
    assert await uow.work.held_by("ana") == []
    assert [(e.agent_id, e.previous_agent_id, e.reason) for e in assigned(uow)] == [
        (None, "ana", "returned"),
        (None, "ana", "returned"),
    ]
    assert uow.emitted[0].availability is Availability.OFFLINE  # agent.changed first

    # bea resolves her case: the queue flows to her at once
    moved = await assignment.release(uow, uuid.UUID(int=2), NOW + timedelta(minutes=2))
    assert [(m.case_id.int, m.agent_id) for m in moved] == [(1, "bea")]


async def test_out_of_office_hands_cases_to_the_substitute():
    uow = await with_agents(available("ana", capacity=5), available("sub", capacity=5))
    await assignment.route_case(uow, case(1), NOW)
    assert uow.work.items[uuid.UUID(int=1)].agent_id == "ana"

    leave = OutOfOffice(NOW, NOW + timedelta(days=7), "sub")
    before, after = await organisation.set_availability(
        uow, "ana", Availability.AVAILABLE, NOW, None, out_of_office=leave
    )
    moved = await assignment.agent_changed(uow, before, after, NOW)
    assert [(m.agent_id, m.previous_agent_id, m.reason) for m in moved] == [
        ("sub", "ana", "substitute")
    ]


async def test_coming_back_takes_from_the_queue():
    away = Agent("ana", "Ana", teams=("general",), availability=Availability.AWAY)
    uow = await with_agents(away)
    await assignment.route_case(uow, case(1), NOW)
    before, after = await organisation.set_availability(
        uow, "ana", Availability.AVAILABLE, NOW, "ana"
    )
    moved = await assignment.agent_changed(uow, before, after, NOW)
    assert [(m.case_id.int, m.agent_id) for m in moved] == [(1, "ana")]


async def test_manual_assignment_checks_the_agent_and_records_the_holder():
    uow = await with_agents(available("ana"), available("bea", teams=("billing",)))
    await assignment.route_case(uow, case(1), NOW)
    with pytest.raises(Invalid) as refused:
        await assignment.manual(uow, case(1), "general", "bea", NOW)
    assert refused.value.errors[0].field == "agent_id"
    with pytest.raises(AgentNotFound):
        await assignment.manual(uow, case(1), "general", "ghost", NOW)

    agent = await assignment.manual(uow, case(1), "general", "ana", NOW)
    assert agent.id == "ana"
    assert uow.work.items[uuid.UUID(int=1)].agent_id == "ana"


async def test_the_responsible_person_comes_from_the_teams_ladder():
    senior = Agent(
        "sara", "Sara", teams=("general",), rank=Rank.SENIOR, availability=Availability.AVAILABLE
    )
    boss = Agent(
        "mia", "Mia", teams=("general",), rank=Rank.SUPERVISOR, availability=Availability.AWAY
    )
    uow = await with_agents(senior, boss)
    uow.org.teams["general"] = Team("general", "General", ladder={Rank.SENIOR: ("sara",)})
    assert (await assignment.responsible(uow, "general", Rank.SENIOR, NOW)).id == "sara"
    assert await assignment.responsible(uow, "general", Rank.SUPERVISOR, NOW) is None  # away
    assert await assignment.responsible(uow, None, Rank.SENIOR, NOW) is None
