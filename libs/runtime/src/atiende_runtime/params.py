"""Dates and times as the OpenAPI documents promise them (RFC 3339 text, `format: date` and
`format: date-time`), and nothing else: pydantic on its own also reads a number as a Unix time
(`?to=0` would be 1 January 1970) and a date-time without its zone, which the documents do not
allow. Use these for query parameters and body fields alike."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")


def _text_like(pattern: re.Pattern[str], example: str) -> Any:
    def check(value: Any) -> Any:
        if isinstance(value, str) and not pattern.fullmatch(value):
            raise ValueError(f"use RFC 3339, e.g. {example}")
        if isinstance(value, int | float):  # bool is an int too
            raise ValueError(f"use RFC 3339 text, e.g. {example}, not a number")
        return value

    return BeforeValidator(check)


IsoDate = Annotated[date, _text_like(_DATE, "2026-11-24")]
"""A calendar date, YYYY-MM-DD."""

IsoDateTime = Annotated[AwareDatetime, _text_like(_DATE_TIME, "2026-11-24T10:00:00Z")]
"""An instant: date, time and zone (Z or ±HH:MM)."""

_EITHER: TypeAdapter[datetime | date] = TypeAdapter(IsoDateTime | IsoDate)


def _date_or_date_time(value: Any) -> datetime | date:
    try:
        return _EITHER.validate_python(value)
    except ValidationError:
        raise PydanticCustomError(
            "date_or_datetime",
            "give a date (2026-11-24) or a time with its zone (2026-11-24T10:00:00Z)",
        ) from None


IsoDateOrDateTime = Annotated[
    datetime | date,
    PlainValidator(_date_or_date_time),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "format": "date"},
            ]
        }
    ),
]
"""Either of the two, one error (rule `date_or_datetime`) when it is neither."""
