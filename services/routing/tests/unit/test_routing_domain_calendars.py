"""Business-time arithmetic: split shifts, holidays, DST changes, calendar time; properties."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atiende_routing.domain.calendars import (
    ALWAYS_OPEN,
    CALENDAR_TIME,
    BusinessCalendar,
    Holiday,
    Interval,
    holidays_from_ical,
    weekdays,
)
from atiende_runtime.errors import Invalid

MADRID = ZoneInfo("Europe/Madrid")
NEW_YORK = ZoneInfo("America/New_York")

# Madrid, Monday to Friday 09:00-14:00 and 16:00-19:00 (a split shift), Saturday 10:00-13:00
SPLIT = BusinessCalendar(
    "Europe/Madrid",
    (
        *weekdays(range(5), time(9), time(14)),
        *weekdays(range(5), time(16), time(19)),
        Interval(5, time(10), time(13)),
    ),
    (Holiday(date(2026, 1, 6), "Reyes"),),
)
ROUND_THE_CLOCK_NY = BusinessCalendar("America/New_York", weekdays(range(7), time(0), time(0)))
NIGHTS_NY = BusinessCalendar("America/New_York", weekdays(range(7), time(1), time(3)))


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def test_time_in_the_lunch_break_and_the_night_does_not_count():
    # Monday 2026-03-09 13:00 Madrid + 2h business: 1h before lunch, 1h after it
    start = local(MADRID, 2026, 3, 9, 13, 0)
    assert SPLIT.add(start, timedelta(hours=2)) == local(MADRID, 2026, 3, 9, 17, 0)
    # Monday 18:00 + 2h: 1h that evening, 1h from 09:00 Tuesday
    assert SPLIT.add(local(MADRID, 2026, 3, 9, 18), timedelta(hours=2)) == local(
        MADRID, 2026, 3, 10, 10
    )
    assert SPLIT.between(start, local(MADRID, 2026, 3, 9, 17)) == timedelta(hours=2)


def test_a_holiday_is_closed_all_day_and_the_weekend_counts_saturday_morning_only():
    # Monday 2026-01-05 18:30 + 1h: 30min that day, Tuesday 6 is Reyes, 30min Wednesday
    start = local(MADRID, 2026, 1, 5, 18, 30)
    assert SPLIT.add(start, timedelta(hours=1)) == local(MADRID, 2026, 1, 7, 9, 30)
    # Friday 2026-03-13 18:00 + 2h: 1h Friday, then Saturday 10:00-11:00
    assert SPLIT.add(local(MADRID, 2026, 3, 13, 18), timedelta(hours=2)) == local(
        MADRID, 2026, 3, 14, 11
    )
    # a whole week: 5 times 8h, plus 3h
    monday = local(MADRID, 2026, 3, 9)
    assert SPLIT.between(monday, monday + timedelta(days=7)) == timedelta(hours=43)


def test_starting_outside_opening_hours_counts_from_the_next_opening():
    sunday = local(MADRID, 2026, 3, 15, 12)
    assert SPLIT.add(sunday, timedelta(minutes=1)) == local(MADRID, 2026, 3, 16, 9, 1)
    assert SPLIT.between(sunday, local(MADRID, 2026, 3, 16, 9)) == timedelta(0)


def test_spring_forward_day_has_one_hour_less_and_fall_back_day_one_more():
    # 2026-03-08 in New York: 02:00 jumps to 03:00
    day = local(NEW_YORK, 2026, 3, 8)
    assert ROUND_THE_CLOCK_NY.between(day, local(NEW_YORK, 2026, 3, 9)) == timedelta(hours=23)
    assert NIGHTS_NY.between(day, local(NEW_YORK, 2026, 3, 9)) == timedelta(hours=1)
    # 2026-11-01: 01:00-02:00 happens twice
    day = local(NEW_YORK, 2026, 11, 1)
    assert ROUND_THE_CLOCK_NY.between(day, local(NEW_YORK, 2026, 11, 2)) == timedelta(hours=25)
    assert NIGHTS_NY.between(day, local(NEW_YORK, 2026, 11, 2)) == timedelta(hours=3)
    # adding 1.5h at 01:00 on the fall-back day lands in the repeated hour, real time
    start = local(NEW_YORK, 2026, 11, 1, 1, 0)  # first 01:00 (EDT)
    # (aware arithmetic in one zone is wall-clock arithmetic: compare in UTC)
    assert NIGHTS_NY.add(start, timedelta(hours=1, minutes=30)) == start.astimezone(
        UTC
    ) + timedelta(hours=1, minutes=30)


def test_business_hours_across_the_madrid_dst_change_follow_wall_clock_times():
    # Friday 2026-03-27 18:00 CET + 2h: 1h Friday, Saturday 28 10:00-11:00 (CET still),
    # and a deadline set on Saturday for Monday 30 (CEST) keeps its wall-clock 09:00 opening
    assert SPLIT.add(local(MADRID, 2026, 3, 27, 18), timedelta(hours=5)) == local(
        MADRID, 2026, 3, 30, 10
    )
    assert SPLIT.add(local(MADRID, 2026, 3, 30, 9), timedelta(0)).utcoffset() == timedelta(hours=2)


def test_calendar_time_and_always_open_count_every_second():
    a = datetime(2026, 3, 8, 5, tzinfo=UTC)
    b = a + timedelta(days=3, seconds=7)
    assert CALENDAR_TIME.between(a, b) == ALWAYS_OPEN.between(a, b) == b - a
    assert CALENDAR_TIME.add(a, b - a) == ALWAYS_OPEN.add(a, b - a) == b


def test_overlapping_intervals_are_refused_naming_the_field():
    with pytest.raises(Invalid) as refused:
        BusinessCalendar(
            "Europe/Madrid", (Interval(0, time(9), time(14)), Interval(0, time(13), time(18)))
        )
    errors = refused.value.by_field()
    assert errors["intervals[1]"].rule == "overlap"
    assert "overlaps intervals[0]" in errors["intervals[1]"].message


def test_bad_zones_backwards_intervals_and_empty_weeks_are_refused():
    with pytest.raises(Invalid) as refused:
        BusinessCalendar("Mars/Olympus", (Interval(0, time(18), time(9)),))
    assert set(refused.value.by_field()) == {"time_zone", "intervals[0]"}
    with pytest.raises(Invalid) as empty:
        BusinessCalendar("UTC", ())
    assert "intervals" in empty.value.by_field()


def test_holidays_come_from_an_icalendar_file_with_yearly_recurrences():
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        "BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20260101\r\nDTEND;VALUE=DATE:20260102\r\n"
        "SUMMARY:Año Nuevo\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\n"
        "BEGIN:VEVENT\r\nUID:2\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261226\r\n"
        "SUMMARY:Navidad\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    holidays = holidays_from_ical(ics, until=date(2027, 12, 31))
    assert [(h.day, h.name) for h in holidays] == [
        (date(2026, 1, 1), "Año Nuevo"),
        (date(2026, 12, 24), "Navidad"),
        (date(2026, 12, 25), "Navidad"),
        (date(2027, 1, 1), "Año Nuevo"),
    ]
    with pytest.raises(Invalid) as refused:
        holidays_from_ical("this is not a calendar", until=date(2027, 1, 1))
    assert "ical" in refused.value.by_field()


# --- properties ------------------------------------------------------------------------------------

CALENDARS = st.sampled_from([SPLIT, ROUND_THE_CLOCK_NY, NIGHTS_NY, ALWAYS_OPEN])
# around both DST changes of 2026 in Europe and America
INSTANTS = st.datetimes(
    min_value=datetime(2026, 3, 1), max_value=datetime(2026, 11, 10), timezones=st.just(UTC)
)
DURATIONS = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))


@settings(max_examples=300, deadline=None)
@given(calendar=CALENDARS, start=INSTANTS, duration=DURATIONS)
def test_adding_business_time_then_measuring_it_gives_it_back(calendar, start, duration):
    end = calendar.add(start, duration)
    assert end >= start
    assert calendar.between(start, end) == duration


@settings(max_examples=200, deadline=None)
@given(calendar=CALENDARS, start=INSTANTS, a=DURATIONS, b=DURATIONS)
def test_more_business_time_never_ends_earlier(calendar, start, a, b):
    shorter, longer = sorted((a, b))
    assert calendar.add(start, shorter) <= calendar.add(start, longer)


@settings(max_examples=200, deadline=None)
@given(calendar=CALENDARS, a=INSTANTS, b=INSTANTS, c=INSTANTS)
def test_business_time_adds_up_and_never_exceeds_real_time(calendar, a, b, c):
    a, b, c = sorted((a, b, c))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)
    assert timedelta(0) <= calendar.between(a, c) <= c - a


@settings(max_examples=100, deadline=None)
@given(start=INSTANTS, duration=DURATIONS)
def test_adding_in_two_steps_is_adding_once(start, duration):
    half = duration / 2
    assert SPLIT.add(SPLIT.add(start, half), duration - half) == SPLIT.add(start, duration)
