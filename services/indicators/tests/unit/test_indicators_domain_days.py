from datetime import date, timedelta

import pytest

from atiende_indicators.domain.days import MAX_SERIES_DAYS, DayRange, daily_series
from atiende_indicators.domain.errors import InvalidRange
from atiende_runtime.errors import Invalid


def test_from_after_to_names_from():
    with pytest.raises(InvalidRange) as error:
        DayRange(date(2026, 3, 2), date(2026, 3, 1))
    assert [e.field for e in error.value.errors] == ["from"]
    assert isinstance(error.value, Invalid)
    assert DayRange(date(2026, 3, 1), date(2026, 3, 1)).start == date(2026, 3, 1)


def test_a_series_longer_than_the_limit_names_to():
    start = date(2020, 1, 1)
    DayRange(start, start + timedelta(days=MAX_SERIES_DAYS - 1)).check_series_span()
    with pytest.raises(InvalidRange) as error:
        DayRange(start, start + timedelta(days=MAX_SERIES_DAYS)).check_series_span()
    assert [e.field for e in error.value.errors] == ["to"]


def test_daily_series_fills_the_requested_days_with_zeros():
    values = {date(2026, 3, 2): 4, date(2026, 3, 4): 1}
    assert daily_series(values, DayRange(date(2026, 3, 1), date(2026, 3, 5))) == [
        (date(2026, 3, 1), 0),
        (date(2026, 3, 2), 4),
        (date(2026, 3, 3), 0),
        (date(2026, 3, 4), 1),
        (date(2026, 3, 5), 0),
    ]


def test_daily_series_with_open_ends_spans_the_days_with_data():
    values = {date(2026, 3, 2): 4, date(2026, 3, 4): 1}
    assert daily_series(values, DayRange()) == [
        (date(2026, 3, 2), 4),
        (date(2026, 3, 3), 0),
        (date(2026, 3, 4), 1),
    ]
    assert daily_series({}, DayRange(start=date(2026, 3, 1))) == []
    assert daily_series({}, DayRange(date(2026, 3, 1), date(2026, 3, 2))) == [
        (date(2026, 3, 1), 0),
        (date(2026, 3, 2), 0),
    ]
