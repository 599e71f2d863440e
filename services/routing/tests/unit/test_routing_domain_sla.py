"""SLA policies and clocks: targets, pauses that keep their reason, warnings, retargeting."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atiende_contracts import CaseStatus, SlaClock
from atiende_routing.domain.calendars import BusinessCalendar, weekdays
from atiende_routing.domain.sla import (
    DEFAULT_POLICY,
    ClockState,
    Priority,
    SlaPolicy,
    start_clock,
)
from atiende_runtime.errors import Invalid

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # a Tuesday
CASE = uuid.UUID(int=7)
CALENDAR_POLICY = DEFAULT_POLICY.next_version(id="calendar", name="Calendar", business_hours=False)
OFFICE = BusinessCalendar("UTC", weekdays(range(5), time(9), time(17)))


def clock(name=SlaClock.RESOLUTION, priority=Priority.HIGH, policy=CALENDAR_POLICY, calendar=None):
    return start_clock(CASE, "AT-1", name, 1, policy, priority, calendar, T0)


def test_the_default_policy_is_valid_and_never_pauses_first_response():
    DEFAULT_POLICY.validate()
    assert not DEFAULT_POLICY.pauses_on(SlaClock.FIRST_RESPONSE, CaseStatus.WAITING_ON_CUSTOMER)
    for name in (SlaClock.NEXT_UPDATE, SlaClock.RESOLUTION):
        for status in (CaseStatus.WAITING_ON_CUSTOMER, CaseStatus.WAITING_ON_THIRD_PARTY):
            assert DEFAULT_POLICY.pauses_on(name, status)
        assert not DEFAULT_POLICY.pauses_on(name, CaseStatus.IN_PROGRESS)


def test_a_policy_that_pauses_first_response_or_misses_targets_is_refused():
    bad = SlaPolicy(
        id="bad",
        name="Bad",
        targets={Priority.LOW: {SlaClock.FIRST_RESPONSE: timedelta(0)}},
        pauses={SlaClock.FIRST_RESPONSE: frozenset({CaseStatus.WAITING_ON_CUSTOMER})},
        warn_at_percent=(120,),
        warn_minutes_before=(0,),
    )
    with pytest.raises(Invalid) as refused:
        bad.validate()
    fields = refused.value.by_field()
    assert fields["pauses.first_response"].rule == "never"
    assert fields["targets.low.first_response"].rule == "positive"
    assert "targets.urgent" in fields
    assert "warn_at_percent[0]" in fields
    assert "warn_minutes_before[0]" in fields


def test_warning_thresholds_by_percent_and_minutes_before():
    points = DEFAULT_POLICY.thresholds(timedelta(hours=4))
    assert [(p.label, p.offset) for p in points] == [
        ("75%", timedelta(hours=3)),
        ("15m before", timedelta(hours=3, minutes=45)),
    ]
    # a "minutes before" longer than the target is left out
    assert [p.label for p in DEFAULT_POLICY.thresholds(timedelta(minutes=10))] == ["75%"]


def test_a_running_clock_is_due_at_start_plus_target_and_breached_after():
    c = clock()
    assert c.target == timedelta(hours=24)
    assert c.due_at == T0 + timedelta(hours=24)
    assert c.state(T0 + timedelta(hours=23)) is ClockState.RUNNING
    assert c.state(T0 + timedelta(hours=24)) is ClockState.BREACHED
    assert c.elapsed(T0 + timedelta(hours=5)) == timedelta(hours=5)


def test_a_pause_stops_the_clock_keeps_its_reason_and_moves_the_deadline():
    c = clock().pause(
        T0 + timedelta(hours=2), "waiting_on_customer", "customer_information", "IBAN"
    )
    later = T0 + timedelta(hours=5)
    assert c.state(later) is ClockState.PAUSED
    assert c.due_at is None
    assert c.elapsed(later) == timedelta(hours=2)  # stopped while paused
    resumed = c.resume(later)
    (pause,) = resumed.pauses
    assert (pause.reason, pause.note, pause.status) == (
        "customer_information",
        "IBAN",
        "waiting_on_customer",
    )
    assert pause.duration(later) == timedelta(hours=3)
    assert resumed.paused_time(later) == timedelta(hours=3)
    assert resumed.due_at == T0 + timedelta(hours=27)
    assert resumed.state(T0 + timedelta(hours=26)) is ClockState.RUNNING


def test_met_clocks_stop_counting_and_pausing_a_met_clock_changes_nothing():
    c = clock().meet(T0 + timedelta(hours=3))
    assert c.state(T0 + timedelta(days=9)) is ClockState.MET
    assert c.elapsed(T0 + timedelta(days=9)) == timedelta(hours=3)
    assert c.pause(T0 + timedelta(hours=4), "waiting_on_customer", "x", None) == c


def test_a_priority_change_keeps_elapsed_and_paused_time():
    c = clock(priority=Priority.NORMAL)  # 40h
    c = c.pause(T0 + timedelta(hours=1), "waiting_on_third_party", "third_party_supplier", None)
    c = c.resume(T0 + timedelta(hours=4))
    now = T0 + timedelta(hours=6)
    urgent = c.retarget(CALENDAR_POLICY, Priority.URGENT, None)  # 8h
    assert urgent.target == timedelta(hours=8)
    assert urgent.elapsed(now) == c.elapsed(now) == timedelta(hours=3)
    assert urgent.paused_time(now) == timedelta(hours=3)
    assert urgent.pauses == c.pauses  # reasons kept (GLPI#15605 forgets them)
    assert urgent.due_at == T0 + timedelta(hours=11)  # 8h target + 3h paused


def test_business_hours_clock_counts_only_opening_hours_and_paused_business_time():
    c = clock(policy=DEFAULT_POLICY, priority=Priority.URGENT, calendar=OFFICE)  # 8h business
    assert c.due_at == T0 + timedelta(hours=8)
    # paused from 16:00 to 10:00 next day: 2h of business time paused
    c = c.pause(T0 + timedelta(hours=7), "waiting_on_customer", "customer_information", None)
    c = c.resume(T0 + timedelta(hours=25))
    assert c.paused_time(T0 + timedelta(hours=26)) == timedelta(hours=2)
    assert c.elapsed(T0 + timedelta(hours=26)) == timedelta(hours=8)
    # 7h elapsed before the pause, 1h left after resuming at 10:00 → due 11:00 next day
    assert c.due_at == datetime(2026, 3, 11, 11, tzinfo=UTC)


def test_thresholds_already_warned_are_not_given_again():
    c = clock(priority=Priority.URGENT)
    labels = [t.label for t, _ in c.threshold_times(CALENDAR_POLICY)]
    assert labels == ["75%", "15m before"]
    assert [t.label for t, _ in c.warn("75%").threshold_times(CALENDAR_POLICY)] == ["15m before"]


@settings(max_examples=150, deadline=None)
@given(
    pauses=st.lists(st.tuples(st.integers(0, 600), st.integers(1, 300)), max_size=4),
    priority=st.sampled_from(list(Priority)),
    new_priority=st.sampled_from(list(Priority)),
)
def test_retargeting_never_loses_elapsed_or_paused_time(pauses, priority, new_priority):
    c = clock(priority=priority)
    at = T0
    for gap, length in pauses:
        at += timedelta(minutes=gap)
        c = c.pause(at, "waiting_on_customer", "customer_information", None)
        at += timedelta(minutes=length)
        c = c.resume(at)
    now = at + timedelta(minutes=1)
    moved = c.retarget(CALENDAR_POLICY, new_priority, None)
    assert moved.elapsed(now) == c.elapsed(now)
    assert moved.paused_time(now) == c.paused_time(now)
    assert moved.elapsed(now) + moved.paused_time(now) == now - T0
    if moved.elapsed(at) < moved.target:
        assert moved.due_at == T0 + moved.target + moved.paused_time(now)
    else:  # already over the new target: due at once
        assert moved.due_at == at
