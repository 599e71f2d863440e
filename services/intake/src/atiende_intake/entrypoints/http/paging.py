"""Cursor pagination and the date-range filter shared by every intake list.

A list is ordered by (timestamp, id) — the id breaks ties between rows written in the same
microsecond — and a page ends with a cursor holding the position of its last item. The next page
starts strictly after that position, so rows inserted meanwhile never shift or repeat items the
way an offset would. The cursor is opaque to clients (base64url of a small JSON document); only
this module reads or writes it.

Use in a route:

    async def list_things(
        cursor: PageCursor, period: PeriodQuery, limit: PageLimit = DEFAULT_LIMIT
    ) -> Page[ThingOut]:
        after = (cursor.at, cursor.id) if cursor else None
        rows = await repo.search(..., after, limit + 1)  # one extra row: is there a next page?
        return page_of([thing_out(r) for r in rows], limit, lambda t: (t.created_at, t.id))
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

from atiende_runtime.params import IsoDateOrDateTime
from atiende_runtime.problems import Problem, validation_problem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Cursor:
    """The position of the last item of a page: the next page starts after it."""

    at: datetime
    id: uuid.UUID


def encode_cursor(at: datetime, id_: uuid.UUID) -> str:
    document = json.dumps({"at": at.isoformat(), "id": str(id_)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> Cursor:
    """The position in `raw`; a cursor we did not write is a 422 naming query.cursor."""
    try:
        padded = raw + "=" * (-len(raw) % 4)
        document = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        at = datetime.fromisoformat(document["at"])
        id_ = uuid.UUID(document["id"])
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
        raise invalid_cursor() from None
    if at.tzinfo is None:
        raise invalid_cursor()
    return Cursor(at=at, id=id_)


def invalid_cursor() -> Problem:
    return invalid_query(
        "cursor", "invalid_cursor", "use the next_cursor of a previous page, unchanged"
    )


def invalid_query(name: str, rule: str, message: str) -> Problem:
    """A 422 naming the query parameter `name`, for checks FastAPI's validation cannot make."""
    return validation_problem([{"field": f"query.{name}", "rule": rule, "message": message}])


def _cursor_param(
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="next_cursor of the previous page; omit for the first"),
    ] = None,
) -> Cursor | None:
    return decode_cursor(cursor) if cursor is not None else None


PageCursor = Annotated[Cursor | None, Depends(_cursor_param)]
"""The decoded `cursor` query parameter (None on the first page)."""

PageLimit = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1..{MAX_LIMIT})")
]
"""The `limit` query parameter; give it the default DEFAULT_LIMIT in the route signature."""


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(
    items: list[T], limit: int, position: Callable[[T], tuple[datetime, uuid.UUID]]
) -> Page[T]:
    """A page from up to limit + 1 fetched items: the extra one only says a next page exists."""
    if len(items) <= limit:
        return Page[T](items=items, next_cursor=None)
    shown = items[:limit]
    return Page[T](items=shown, next_cursor=encode_cursor(*position(shown[-1])))


# --- lists ordered by a unique text key instead (the catalogue, by code) -------------------


def encode_key_cursor(key: str) -> str:
    document = json.dumps({"key": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(document.encode()).decode().rstrip("=")


def decode_key_cursor(raw: str) -> str:
    """The key in `raw`; a cursor we did not write is a 422 naming query.cursor."""
    try:
        padded = raw + "=" * (-len(raw) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))["key"]
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
        raise invalid_cursor() from None
    if not isinstance(key, str):
        raise invalid_cursor()
    return key


def _key_cursor_param(
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="next_cursor of the previous page; omit for the first"),
    ] = None,
) -> str | None:
    return decode_key_cursor(cursor) if cursor is not None else None


PageKeyCursor = Annotated[str | None, Depends(_key_cursor_param)]
"""The decoded `cursor` query parameter of a key-ordered list (None on the first page)."""


def page_by_key(items: list[T], limit: int, key: Callable[[T], str]) -> Page[T]:
    """page_of for a list ordered by a unique text key."""
    if len(items) <= limit:
        return Page[T](items=items, next_cursor=None)
    shown = items[:limit]
    return Page[T](items=shown, next_cursor=encode_key_cursor(key(shown[-1])))


@dataclass(frozen=True)
class Period:
    """A time range filter: `start` inclusive, `end` exclusive; None is open-ended."""

    start: datetime | None = None
    end: datetime | None = None


_BOUND_HELP = (
    "a date (2026-11-24, a whole day in UTC) or a time with its zone (2026-11-24T10:00:00Z)"
)


def _start_of(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time.min, tzinfo=UTC)


def period_of(
    from_: Annotated[
        IsoDateOrDateTime | None,
        Query(alias="from", description=f"From (inclusive): {_BOUND_HELP}"),
    ] = None,
    to: Annotated[
        IsoDateOrDateTime | None,
        Query(description=f"Until: {_BOUND_HELP}; a time is exclusive"),
    ] = None,
) -> Period:
    """The `from`/`to` query parameters as a Period; `from` later than `to` is a 422. The
    document states each as a date or a date-time (anyOf), exactly what is read."""
    first, last = from_, to
    start = _start_of(first) if first is not None else None
    end = None
    to_whole_day = last is not None and not isinstance(last, datetime)
    if isinstance(last, datetime):
        end = last
    elif last is not None:  # a date as `to` includes its whole day: it ends as the next begins
        end = _start_of(last + timedelta(days=1))
    if start is not None and end is not None and (start > end or (to_whole_day and start == end)):
        raise invalid_query("from", "after_to", "`from` must not be later than `to`")
    return Period(start, end)


PeriodQuery = Annotated[Period, Depends(period_of)]
"""The `from` and `to` query parameters of a list."""
