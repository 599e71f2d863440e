from datetime import UTC, date, datetime, time, timedelta

import pytest

from atiende_contracts import AgentChanged, Availability, Rank, TeamChanged
from atiende_routing.domain.calendars import Holiday
from atiende_routing.domain.org import (
    DEFAULT_CALENDAR,
    Agent,
    Capacity,
    OutOfOffice,
    Team,
    calendar_from_json,
    calendar_json,
    rank_order,
    with_holidays,
)
from atiende_runtime.errors import Invalid

NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)


def test_ranks_climb_agent_senior_supervisor_manager():
    assert sorted(Rank, key=rank_order) == [Rank.AGENT, Rank.SENIOR, Rank.SUPERVISOR, Rank.MANAGER]


def test_a_calendar_round_trips_through_json_with_split_shifts():
    data = {
        "time_zone": "Europe/Madrid",
        "weekly": [
            {"weekday": 0, "start": "09:00", "end": "14:00"},
            {"weekday": 0, "start": "16:00", "end": "19:00"},
        ],
        "holidays": [{"date": "2026-01-06", "name": "Reyes"}],
    }
    calendar = calendar_from_json(data)
    assert calendar_json(calendar) == data
    assert calendar.holidays == (Holiday(date(2026, 1, 6), "Reyes"),)


def test_overlapping_intervals_are_refused_naming_the_field():
    with pytest.raises(Invalid) as refused:
        calendar_from_json(
            {
                "weekly": [
                    {"weekday": 2, "start": "09:00", "end": "14:00"},
                    {"weekday": 2, "start": "13:00", "end": "18:00"},
                ]
            }
        )
    assert [(e.field, e.rule) for e in refused.value.errors] == [
        ("calendar.intervals[1]", "overlap")
    ]


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(Invalid) as refused:
        calendar_from_json({"time_zone": "Mars/Olympus", "weekly": DEFAULT_JSON["weekly"]})
    assert refused.value.errors[0].field == "calendar.time_zone"


DEFAULT_JSON = calendar_json(DEFAULT_CALENDAR)


def test_imported_holidays_add_new_dates_and_keep_known_names():
    calendar = calendar_from_json(
        {**DEFAULT_JSON, "holidays": [{"date": "2026-05-01", "name": "Trabajo"}]}
    )
    merged = with_holidays(
        calendar, [Holiday(date(2026, 5, 1), "Labour day"), Holiday(date(2026, 1, 1), "New year")]
    )
    assert merged.holidays == (
        Holiday(date(2026, 1, 1), "New year"),
        Holiday(date(2026, 5, 1), "Trabajo"),
    )


def test_a_team_validates_and_tells_team_changed():
    team = Team("billing", "Billing").validate()
    assert team.reopen_window_days == 14
    assert team.changed(NOW, "admin") == TeamChanged(
        team="billing",
        name="Billing",
        active=True,
        time_zone="Europe/Madrid",
        strategy="round_robin",
        changed_at=NOW,
        actor="admin",
    )


def test_bad_team_fields_are_named():
    with pytest.raises(Invalid) as refused:
        Team("Bad Id", " ", reopen_window_days=-1, ladder={Rank.SENIOR: ("a", "a")}).validate()
    assert {e.field for e in refused.value.errors} == {
        "id",
        "name",
        "reopen_window_days",
        "ladder.senior",
    }


@pytest.mark.parametrize(
    ("capacity", "field"),
    [
        (Capacity(0), "capacity.total"),
        (Capacity(3, {"phone": 0}), "capacity.per_channel.phone"),
    ],
)
def test_a_capacity_of_zero_is_refused(capacity, field):
    with pytest.raises(Invalid) as refused:
        Agent("ana", "Ana", teams=("general",), capacity=capacity).validate()
    assert [(e.field, e.rule) for e in refused.value.errors] == [(field, "minimum")]
    assert "at least 1" in refused.value.errors[0].message


def test_bad_agent_fields_are_named():
    with pytest.raises(Invalid) as refused:
        Agent(
            "ana",
            "Ana",
            email="nope",
            teams=(),
            out_of_office=OutOfOffice(NOW, NOW - timedelta(hours=1), "ana"),
        ).validate()
    assert {e.field for e in refused.value.errors} == {
        "email",
        "teams",
        "out_of_office.ends",
        "out_of_office.substitute_id",
    }


def test_an_agent_works_only_when_available_active_and_not_out_of_office():
    ana = Agent("ana", "Ana", teams=("general",), availability=Availability.AVAILABLE)
    assert ana.can_work(NOW)
    ooo = OutOfOffice(NOW - timedelta(hours=1), NOW + timedelta(days=2), "bea")
    away = Agent(
        "ana", "Ana", teams=("general",), availability=Availability.AVAILABLE, out_of_office=ooo
    )
    assert not away.can_work(NOW)
    assert away.substitute_at(NOW) == "bea"
    assert away.substitute_at(NOW + timedelta(days=3)) is None
    assert away.can_work(NOW + timedelta(days=3))
    assert not Agent("x", "X", availability=Availability.AWAY).can_work(NOW)


def test_an_agent_tells_agent_changed():
    ana = Agent("ana", "Ana", email="ana@example.com", teams=("general",), rank=Rank.SENIOR)
    event = ana.changed(NOW, None)
    assert isinstance(event, AgentChanged)
    assert (event.agent_id, event.rank, event.teams, event.availability) == (
        "ana",
        Rank.SENIOR,
        ["general"],
        Availability.OFFLINE,
    )


def test_calendar_start_time_must_precede_end():
    with pytest.raises(Invalid):
        calendar_from_json({"weekly": [{"weekday": 1, "start": "18:00", "end": "09:00"}]})
    assert time(9) < time(18)
