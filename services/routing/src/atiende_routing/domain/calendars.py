"""Business-hours calendars and the arithmetic of business time.

A calendar is an IANA time zone, weekly opening intervals in local wall-clock time (several per
day: split shifts) and holidays (named local dates, closed all day). Business time is real elapsed
time that falls inside an opening: intervals are turned into UTC instants day by day with
zoneinfo, so a DST change shortens or lengthens the affected interval by the hour it really
lost or gained. `CALENDAR_TIME` is the 24/7 measure a policy in calendar time uses.

Pure: no I/O. iCalendar files are parsed with the `icalendar` library.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atiende_runtime.errors import FieldError, Invalid

MIDNIGHT = time(0)
SEARCH_LIMIT = timedelta(days=366 * 5)
"""How far add_business_time looks for opening hours before it gives up (a calendar that is
closed for five years is a configuration error, not a deadline)."""


class TimeMeasure(Protocol):
    """How a clock counts: business hours of a calendar, or plain calendar time."""

    def add(self, start: datetime, duration: timedelta) -> datetime: ...

    def between(self, start: datetime, end: datetime) -> timedelta: ...


class CalendarTime:
    """Every second counts (a policy in calendar time)."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start.astimezone(UTC) + duration

    def between(self, start: datetime, end: datetime) -> timedelta:
        return end.astimezone(UTC) - start.astimezone(UTC)


CALENDAR_TIME = CalendarTime()


@dataclass(frozen=True)
class Interval:
    """Open on `weekday` (0 Monday … 6 Sunday) from `start` to `end`, local time; an `end` of
    00:00 means midnight at the end of the day."""

    weekday: int
    start: time
    end: time

    @property
    def start_minute(self) -> int:
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        return 24 * 60 if self.end == MIDNIGHT else self.end.hour * 60 + self.end.minute


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str


@dataclass(frozen=True)
class BusinessCalendar:
    time_zone: str
    intervals: tuple[Interval, ...]
    holidays: tuple[Holiday, ...] = ()
    _closed: frozenset[date] = field(init=False, repr=False, compare=False)
    _by_weekday: dict[int, tuple[Interval, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()
        object.__setattr__(self, "_closed", frozenset(h.day for h in self.holidays))
        object.__setattr__(
            self,
            "_by_weekday",
            {
                day: tuple(sorted((i for i in self.intervals if i.weekday == day), key=_start_of))
                for day in range(7)
            },
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def validate(self) -> None:
        """Refuses an unknown zone, an empty week, a backwards interval and overlapping ones."""
        errors: list[FieldError] = []
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(
                FieldError("time_zone", "iana", f"{self.time_zone!r} is not an IANA time zone name")
            )
        if not self.intervals:
            errors.append(FieldError("intervals", "required", "at least one opening interval"))
        for index, interval in enumerate(self.intervals):
            name = f"intervals[{index}]"
            if not 0 <= interval.weekday <= 6:
                errors.append(FieldError(f"{name}.weekday", "range", "weekday is 0 (Mon) to 6"))
            if any(t.second or t.microsecond for t in (interval.start, interval.end)):
                errors.append(FieldError(name, "minutes", "times are whole minutes"))
            if interval.end_minute <= interval.start_minute:
                errors.append(
                    FieldError(name, "order", f"{_hm(interval.start)} is not before its end")
                )
        for index, interval in enumerate(self.intervals):
            for other_index, other in enumerate(self.intervals[:index]):
                if (
                    interval.weekday == other.weekday
                    and interval.start_minute < other.end_minute
                    and other.start_minute < interval.end_minute
                ):
                    errors.append(
                        FieldError(
                            f"intervals[{index}]",
                            "overlap",
                            f"{_hm(interval.start)}-{_hm(interval.end)} overlaps"
                            f" intervals[{other_index}] {_hm(other.start)}-{_hm(other.end)}"
                            f" on weekday {interval.weekday}",
                        )
                    )
        seen: dict[date, int] = {}
        for index, holiday in enumerate(self.holidays):
            if holiday.day in seen:
                errors.append(
                    FieldError(
                        f"holidays[{index}]",
                        "duplicate",
                        f"{holiday.day} is already holidays[{seen[holiday.day]}]",
                    )
                )
            seen.setdefault(holiday.day, index)
        if errors:
            raise Invalid(errors)

    # --- business time --------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        return any(s <= at < e for s, e in self.openings(at - timedelta(days=1), at))

    def openings(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The opening periods (UTC, in order, clipped) that overlap [start, end)."""
        # in UTC: Python subtracts two datetimes of one zone by wall clock, not real time
        start, end = start.astimezone(UTC), end.astimezone(UTC)
        for period_start, period_end in self._periods_from(start):
            if period_start >= end:
                return
            yield max(period_start, start), min(period_end, end)

    def _periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Opening periods in UTC, in order, from the one containing `start` on, forever."""
        zone = self.zone
        day = start.astimezone(zone).date() - timedelta(days=1)
        last_end: datetime | None = None
        while True:
            if day not in self._closed:
                for interval in self._by_weekday[day.weekday()]:
                    opens = _instant(day, interval.start_minute, zone)
                    closes = _instant(day, interval.end_minute, zone)
                    if last_end is not None:
                        opens = max(opens, last_end)  # a DST repeat never counts twice
                    if closes <= opens or closes <= start:
                        continue
                    last_end = closes
                    yield opens, closes
            day += timedelta(days=1)

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant `duration` of business time after `start` (add_business_time)."""
        if duration < timedelta(0):
            raise ValueError("business time is added, never subtracted")
        if duration == timedelta(0):
            return start
        start = start.astimezone(UTC)
        remaining = duration
        for opens, closes in self._periods_from(start):
            if opens - start > SEARCH_LIMIT:
                break
            opens = max(opens, start)
            if closes - opens >= remaining:
                return (opens + remaining).astimezone(UTC)
            remaining -= closes - opens
        raise ValueError(f"the calendar has no opening hours within {SEARCH_LIMIT.days} days")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (business_time_between); negative if reversed."""
        if end < start:
            return -self.between(end, start)
        total = timedelta(0)
        for opens, closes in self.openings(start, end):
            total += closes - opens
        return total

    add_business_time = add
    business_time_between = between


def _start_of(interval: Interval) -> int:
    return interval.start_minute


def _hm(value: time) -> str:
    return value.strftime("%H:%M")


def _instant(day: date, minute: int, zone: ZoneInfo) -> datetime:
    """Local wall-clock `minute` of `day` as a UTC instant. A time skipped by spring-forward
    resolves with the offset before the change (02:30 becomes 03:30), an hour repeated by
    fall-back means its first occurrence (fold=0)."""
    local = datetime.combine(day, MIDNIGHT) + timedelta(minutes=minute)
    return local.replace(tzinfo=zone).astimezone(UTC)


def weekdays(days: Iterable[int], start: time, end: time) -> tuple[Interval, ...]:
    """The same interval on several weekdays (a convenience for building calendars)."""
    return tuple(Interval(day, start, end) for day in days)


ALWAYS_OPEN = BusinessCalendar("UTC", weekdays(range(7), MIDNIGHT, MIDNIGHT))
"""A 24/7 calendar: business time equals calendar time."""


# --- iCalendar -------------------------------------------------------------------------------------


def holidays_from_ical(data: bytes | str, *, until: date) -> tuple[Holiday, ...]:
    """Holidays from an iCalendar file: every VEVENT's dates (multi-day events expanded, yearly
    or other RRULE recurrences expanded up to `until`), named by their SUMMARY. Raises Invalid
    (field "ical") on a file that is not iCalendar."""
    import icalendar  # the library does the parsing; nothing here reads iCalendar by hand
    from dateutil.rrule import rrulestr

    try:
        parsed = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise Invalid.field("ical", "format", f"not an iCalendar file: {exc}") from exc
    found: dict[date, str] = {}
    for event in parsed.walk("VEVENT"):
        if "DTSTART" not in event:
            continue
        first = _as_date(event.decoded("DTSTART"))
        last = _as_date(event.decoded("DTEND")) - timedelta(days=1) if "DTEND" in event else first
        length = max(timedelta(0), last - first)
        name = str(event.get("SUMMARY", "Holiday")).strip() or "Holiday"
        starts = [first]
        if "RRULE" in event:
            raw = event["RRULE"].to_ical()
            rule = raw.decode() if isinstance(raw, bytes) else str(raw)
            # an UNTIL with a zone cannot meet a floating start: holidays are dates anyway
            rule = ";".join(
                part if not part.startswith("UNTIL=") else part[:14] for part in rule.split(";")
            )
            until_dt = datetime.combine(until, time(23, 59))
            recurrence = rrulestr(rule, dtstart=datetime.combine(first, MIDNIGHT), forceset=True)
            starts = [
                d.date()
                for d in recurrence.between(datetime.combine(first, MIDNIGHT), until_dt, inc=True)
            ]
        for start in starts:
            day = start
            while day <= start + length and day <= until:
                found.setdefault(day, name)
                day += timedelta(days=1)
    return tuple(Holiday(day, name) for day, name in sorted(found.items()))


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
