from datetime import UTC, datetime, timedelta

import pytest

from atiende_contracts import Availability
from atiende_routing.domain.assignment import AgentLoad, CaseNeeds, choose_agent, why_not
from atiende_routing.domain.org import Agent, Capacity, OutOfOffice, Skills, Strategy

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def agent(agent_id, *, languages=(), motives=(), capacity=3, per_channel=None, **fields):
    values = {
        "teams": ("general",),
        "availability": Availability.AVAILABLE,
        "skills": Skills(languages=frozenset(languages), motives=frozenset(motives)),
        "capacity": Capacity(capacity, per_channel or {}),
        **fields,
    }
    return Agent(agent_id, agent_id.title(), **values)


def load(a, open_cases=0, last=None, by_channel=None):
    return AgentLoad(a, open_cases, by_channel or {}, last)


def choose(strategy, loads, **needs):
    found = choose_agent(strategy, "general", loads, CaseNeeds(**needs), NOW)
    return (found.agent.id, found.reason) if found else None


def test_round_robin_picks_who_waited_longest_never_assigned_first():
    loads = [
        load(agent("ana"), last=NOW - timedelta(minutes=5)),
        load(agent("bea"), last=NOW - timedelta(hours=1)),
        load(agent("cai"), last=None),
    ]
    assert choose(Strategy.ROUND_ROBIN, loads) == ("cai", "round_robin")
    assert choose(Strategy.ROUND_ROBIN, loads[:2]) == ("bea", "round_robin")


def test_least_loaded_divides_open_cases_by_capacity():
    loads = [
        load(agent("ana", capacity=2), open_cases=1),  # 0.5
        load(agent("bea", capacity=10), open_cases=3),  # 0.3
        load(agent("cai", capacity=4), open_cases=2),  # 0.5
    ]
    assert choose(Strategy.LEAST_LOADED, loads) == ("bea", "least_loaded")


def test_least_loaded_breaks_ties_by_longest_waiting():
    loads = [
        load(agent("ana"), open_cases=1, last=NOW),
        load(agent("bea"), open_cases=1, last=NOW - timedelta(hours=2)),
    ]
    assert choose(Strategy.LEAST_LOADED, loads)[0] == "bea"


def test_skills_match_prefers_language_then_motive_then_load():
    loads = [
        load(agent("idle")),
        load(agent("motive", motives={"invoice"})),
        load(agent("speaker", languages={"en"}), open_cases=2),
        load(agent("both", languages={"en"}, motives={"invoice"}), open_cases=2),
    ]
    assert choose(Strategy.SKILLS_MATCH, loads, language="en", motive="invoice") == (
        "both",
        "skills_match",
    )
    assert choose(Strategy.SKILLS_MATCH, loads[:3], language="en", motive="invoice")[0] == "speaker"
    assert choose(Strategy.SKILLS_MATCH, loads[:2], language="en", motive="invoice")[0] == "motive"
    assert choose(Strategy.SKILLS_MATCH, loads[:1], language="en", motive="invoice")[0] == "idle"


def test_required_skills_are_a_must():
    loads = [load(agent("ana")), load(agent("bea", languages={"en"}), open_cases=2)]
    needs = {"required": Skills(languages=frozenset({"en"}))}
    assert choose(Strategy.ROUND_ROBIN, loads, **needs)[0] == "bea"
    assert why_not(loads[0], CaseNeeds(**needs), "general", NOW) == "lacks languages:en"


@pytest.mark.parametrize(
    ("candidate", "reason"),
    [
        (load(agent("away", availability=Availability.AWAY)), "away"),
        (load(agent("off", availability=Availability.OFFLINE)), "offline"),
        (load(agent("full", capacity=2), open_cases=2), "at capacity"),
        (load(agent("gone", active=False)), "inactive"),
        (load(agent("other", teams=("billing",))), "not in team general"),
        (
            load(
                agent(
                    "holiday",
                    out_of_office=OutOfOffice(NOW - timedelta(days=1), NOW + timedelta(days=1)),
                )
            ),
            "out of office",
        ),
        (
            load(agent("phone", per_channel={"phone": 1}), open_cases=1, by_channel={"phone": 1}),
            "at capacity",
        ),
    ],
)
def test_only_available_agents_under_capacity_are_chosen(candidate, reason):
    assert why_not(candidate, CaseNeeds(channel="phone"), "general", NOW) == reason
    assert choose(Strategy.ROUND_ROBIN, [candidate], channel="phone") is None


def test_per_channel_capacity_leaves_room_for_other_channels():
    busy_on_phone = load(
        agent("ana", per_channel={"phone": 1}), open_cases=1, by_channel={"phone": 1}
    )
    assert choose(Strategy.ROUND_ROBIN, [busy_on_phone], channel="email")[0] == "ana"


def test_an_out_of_office_period_that_ended_does_not_block():
    back = agent("ana", out_of_office=OutOfOffice(NOW - timedelta(days=3), NOW - timedelta(days=1)))
    assert choose(Strategy.ROUND_ROBIN, [load(back)])[0] == "ana"


def test_sticky_to_the_previous_agent_when_they_can_take_it():
    loads = [load(agent("ana"), last=None), load(agent("bea"), open_cases=2, last=NOW)]
    assert choose(Strategy.ROUND_ROBIN, loads, previous_agent_id="bea") == ("bea", "sticky")


def test_not_sticky_when_the_previous_agent_is_away_or_full():
    away = load(agent("bea", availability=Availability.AWAY))
    full = load(agent("bea", capacity=1), open_cases=1)
    for previous in (away, full):
        assert choose(
            Strategy.ROUND_ROBIN, [load(agent("ana")), previous], previous_agent_id="bea"
        ) == (
            "ana",
            "round_robin",
        )


def test_excluded_agents_are_skipped():
    loads = [load(agent("ana")), load(agent("bea"), last=NOW)]
    assert choose(Strategy.ROUND_ROBIN, loads, exclude=frozenset({"ana"}))[0] == "bea"


def test_nobody_able_means_the_queue():
    assert choose(Strategy.LEAST_LOADED, []) is None
