"""List paging and the date-range filter: opaque cursors, pages, `from`/`to` bounds."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter

from atiende_intake.entrypoints.http.paging import (
    Cursor,
    Period,
    decode_cursor,
    encode_cursor,
    page_of,
)
from atiende_intake.entrypoints.http.paging import (
    period_of as period_of_values,
)
from atiende_runtime.params import IsoDateOrDateTime
from atiende_runtime.problems import Problem

_BOUND = TypeAdapter(IsoDateOrDateTime | None)


def period_of(from_, to):
    # FastAPI reads each bound as the document states it (a date or a date-time); a text that
    # is neither is refused there (tests/integration: bad filters), period_of gets values
    return period_of_values(_BOUND.validate_python(from_), _BOUND.validate_python(to))


AT = datetime(2026, 11, 24, 10, 30, 15, 123456, tzinfo=UTC)


def problem_fields(call, *args):
    with pytest.raises(Problem) as caught:
        call(*args)
    assert caught.value.status == 422
    return [e["field"] for e in caught.value.errors or []]


def test_a_cursor_round_trips_to_the_microsecond_and_is_url_safe():
    id_ = uuid.uuid4()

    cursor = encode_cursor(AT, id_)

    assert decode_cursor(cursor) == Cursor(AT, id_)
    assert all(ch.isalnum() or ch in "-_" for ch in cursor)


@pytest.mark.parametrize(
    "raw",
    [
        "not-a-cursor",
        "!!!",
        "",
        encode_cursor(AT, uuid.uuid4())[:-3],  # truncated
        "eyJhdCI6MX0",  # {"at":1}
        "WzFd",  # [1]
        "eyJhdCI6IjIwMjYtMTEtMjRUMTA6MDA6MDAiLCJpZCI6IjEyMyJ9",  # no zone, bad id
    ],
)
def test_a_cursor_we_did_not_write_is_a_problem_naming_the_cursor(raw):
    assert problem_fields(decode_cursor, raw) == ["query.cursor"]


def test_a_page_has_a_next_cursor_only_when_there_is_more():
    items = [(AT - timedelta(minutes=i), uuid.uuid4()) for i in range(3)]

    def position(item):
        return item

    full = page_of(items, 2, position)
    last = page_of(items[:2], 2, position)

    assert full.items == items[:2]
    assert decode_cursor(full.next_cursor) == Cursor(*items[1])
    assert (last.items, last.next_cursor) == (items[:2], None)


def test_dates_are_whole_utc_days_and_times_keep_their_zone():
    assert period_of("2026-11-24", "2026-11-24") == Period(
        datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)
    )
    assert period_of("2026-11-24T10:00:00+02:00", None) == Period(
        datetime(2026, 11, 24, 8, tzinfo=UTC), None
    )
    # midnight with a zone is a time, not a whole day
    assert period_of(None, "2026-11-24T00:00:00Z") == Period(
        None, datetime(2026, 11, 24, tzinfo=UTC)
    )
    assert period_of(None, None) == Period(None, None)


def test_from_may_fall_within_the_day_given_as_to():
    assert period_of("2026-11-24T23:00:00Z", "2026-11-24").start == datetime(
        2026, 11, 24, 23, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("from_", "to", "field"),
    [
        ("2026-11-25", "2026-11-24", "query.from"),
        ("2026-11-25T00:00:00Z", "2026-11-24", "query.from"),
        ("2026-11-24T10:00:01Z", "2026-11-24T10:00:00Z", "query.from"),
    ],
)
def test_bad_bounds_are_problems_naming_the_parameter(from_, to, field):
    assert problem_fields(period_of, from_, to) == [field]
