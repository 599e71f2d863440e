import uuid
from datetime import UTC, date, datetime

import pytest

from atiende_contracts import AgentChanged, RoutingRuleChanged, TeamChanged
from atiende_routing.domain.errors import AlreadyExists, CaseNotFound, RuleNotFound, TeamNotFound
from atiende_routing.domain.org import Agent, Capacity, Team
from atiende_routing.domain.rules import Condition, Operator, Outcome, RoutingRule
from atiende_routing.usecases import organisation
from atiende_runtime.errors import Conflict, Invalid

from ..fakes import FakeUnitOfWork

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)

ICAL = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1
DTSTART;VALUE=DATE:20261012
DTEND;VALUE=DATE:20261013
SUMMARY:Fiesta Nacional
END:VEVENT
END:VCALENDAR
"""


def rule(rule_id, *conditions, team="general", position=10):
    return RoutingRule(rule_id, rule_id.title(), conditions, Outcome(team), position)


def eq(fact, value):
    return Condition(fact, Operator.EQUALS, (value,))


async def test_a_team_is_created_once_and_told():
    uow = FakeUnitOfWork()
    team = await organisation.create_team(uow, Team("billing", "Billing"), NOW, "admin")
    assert await organisation.get_team(uow, "billing") == team
    assert [type(e) for e in uow.emitted] == [TeamChanged]
    with pytest.raises(AlreadyExists):
        await organisation.create_team(uow, Team("billing", "Other"), NOW, "admin")
    with pytest.raises(TeamNotFound):
        await organisation.get_team(uow, "nope")


async def test_a_team_ladder_names_known_agents():
    from atiende_contracts import Rank

    uow = FakeUnitOfWork()
    with pytest.raises(Invalid) as refused:
        await organisation.create_team(
            uow, Team("b", "B", ladder={Rank.SENIOR: ("ghost",)}), NOW, None
        )
    assert refused.value.errors[0].field == "ladder.senior"
    assert "b" not in uow.org.teams
    assert uow.emitted == []


async def test_an_agent_with_unknown_team_or_zero_capacity_is_refused_and_nothing_saved():
    uow = FakeUnitOfWork()
    with pytest.raises(Invalid) as refused:
        await organisation.create_agent(
            uow, Agent("ana", "Ana", teams=("general", "nope")), NOW, None
        )
    assert [(e.field, e.rule) for e in refused.value.errors] == [("teams[1]", "team")]
    with pytest.raises(Invalid) as zero:
        await organisation.create_agent(
            uow, Agent("ana", "Ana", teams=("general",), capacity=Capacity(0)), NOW, None
        )
    assert zero.value.errors[0].field == "capacity.total"
    assert uow.org.agents == {}
    assert uow.emitted == []


async def test_an_agent_change_is_versioned_and_told():
    uow = FakeUnitOfWork()
    await organisation.create_agent(uow, Agent("ana", "Ana", teams=("general",)), NOW, None)
    before, after = await organisation.update_agent(
        uow, Agent("ana", "Ana María", teams=("general",)), NOW, "admin"
    )
    assert (before.version, after.version, after.name) == (1, 2, "Ana María")
    assert [type(e) for e in uow.emitted] == [AgentChanged, AgentChanged]


async def test_rules_are_versioned_and_the_old_version_stays():
    uow = FakeUnitOfWork()
    first = await organisation.create_rule(uow, rule("claims", eq("type", "claim")), NOW, "admin")
    second = await organisation.update_rule(
        uow, rule("claims", eq("type", "claim"), eq("channel", "email")), NOW, "admin"
    )
    assert (first.version, second.version) == (1, 2)
    assert (await organisation.get_rule(uow, "claims", 1)).conditions == first.conditions
    assert (await organisation.get_rule(uow, "claims")).version == 2
    assert [(e.rule_id, e.version_number) for e in uow.emitted] == [("claims", 1), ("claims", 2)]
    assert all(isinstance(e, RoutingRuleChanged) for e in uow.emitted)


async def test_a_rule_that_can_never_match_is_refused_naming_the_rule_and_nothing_saved():
    uow = FakeUnitOfWork()
    await organisation.create_rule(uow, rule("complaints", eq("type", "complaint")), NOW, None)
    with pytest.raises(Invalid) as refused:
        await organisation.create_rule(
            uow,
            rule("shadowed", eq("type", "complaint"), eq("channel", "email"), position=20),
            NOW,
            None,
        )
    assert refused.value.errors[0].rule == "never_matches"
    assert "rule shadowed can never match: rule complaints" in refused.value.message
    with pytest.raises(Invalid) as contradictory:
        await organisation.create_rule(
            uow, rule("never", eq("type", "claim"), eq("type", "complaint")), NOW, None
        )
    assert "rule never" in contradictory.value.message
    assert await organisation.get_rule(uow, "complaints")
    with pytest.raises(RuleNotFound):
        await organisation.get_rule(uow, "shadowed")
    assert len(uow.emitted) == 1


async def test_a_rule_to_an_unknown_team_is_refused():
    uow = FakeUnitOfWork()
    with pytest.raises(Invalid) as refused:
        await organisation.create_rule(uow, rule("x", eq("type", "claim"), team="nope"), NOW, None)
    assert refused.value.errors[0].field == "outcome.team"


async def test_the_default_rule_cannot_be_deleted_nor_given_conditions():
    uow = FakeUnitOfWork()
    with pytest.raises(Conflict):
        await organisation.delete_rule(uow, "default", NOW, None)
    with pytest.raises(Invalid):
        await organisation.update_rule(
            uow,
            RoutingRule("default", "D", (eq("type", "claim"),), Outcome("general"), 1000000),
            NOW,
            None,
        )
    # its outcome may change
    changed = await organisation.update_rule(
        uow, RoutingRule("default", "D", (), Outcome("general", "high"), 1000000), NOW, None
    )
    assert changed.version == 2


async def test_a_deleted_rule_is_gone_but_its_versions_remain():
    uow = FakeUnitOfWork()
    await organisation.create_rule(uow, rule("claims", eq("type", "claim")), NOW, None)
    gone = await organisation.delete_rule(uow, "claims", NOW, None)
    assert gone.active is False
    assert [r.id for r in await organisation.list_rules(uow)] == ["default"]
    with pytest.raises(RuleNotFound):
        await organisation.delete_rule(uow, "claims", NOW, None)


async def test_a_team_used_by_a_rule_cannot_be_deactivated():
    uow = FakeUnitOfWork()
    await organisation.create_team(uow, Team("billing", "Billing"), NOW, None)
    await organisation.create_rule(uow, rule("x", eq("type", "claim"), team="billing"), NOW, None)
    with pytest.raises(Invalid) as refused:
        await organisation.update_team(uow, Team("billing", "Billing", active=False), NOW, None)
    assert refused.value.errors[0].field == "active"
    assert "rule(s) x" in refused.value.errors[0].message


async def test_holidays_are_imported_from_an_icalendar_file():
    uow = FakeUnitOfWork()
    team, added = await organisation.import_holidays(uow, "general", ICAL, NOW, "admin")
    assert added == 1
    assert [(h.day, h.name) for h in team.calendar.holidays] == [
        (date(2026, 10, 12), "Fiesta Nacional")
    ]
    again, none = await organisation.import_holidays(uow, "general", ICAL, NOW, "admin")
    assert none == 0
    assert again == team
    with pytest.raises(Invalid):
        await organisation.import_holidays(uow, "general", b"not a calendar", NOW, None)


async def test_an_unrouted_case_has_no_explanation():
    with pytest.raises(CaseNotFound):
        await organisation.routing_explanation(FakeUnitOfWork(), uuid.uuid4())
