"""Ranges of reporting days, and the daily series over them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from .errors import InvalidRange

MAX_SERIES_DAYS = 3660
"""Longest explicit range a daily series may span: the series has one point per day."""


@dataclass(frozen=True)
class DayRange:
    """Reporting days from `start` to `end`, both included; an open end is unbounded."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.start > self.end:
            raise InvalidRange("from", f"`from` ({self.start}) is after `to` ({self.end})")

    def check_series_span(self) -> None:
        """Refuse an explicit range too long to list day by day."""
        if self.start is not None and self.end is not None:
            days = (self.end - self.start).days + 1
            if days > MAX_SERIES_DAYS:
                raise InvalidRange(
                    "to",
                    f"a daily series spans at most {MAX_SERIES_DAYS} days, not {days}",
                )


def daily_series(values: Mapping[date, int], days: DayRange) -> list[tuple[date, int]]:
    """One point per day, 0 on days without events. An open end of the range stops at the
    first or last day with data; with no data and an open end, the series is empty."""
    start = days.start or min(values, default=None)
    end = days.end or max(values, default=None)
    if start is None or end is None:
        return []
    return [
        (day, values.get(day, 0))
        for day in (start + timedelta(days=n) for n in range((end - start).days + 1))
    ]
