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


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
EMAIL_PATTERN = rf"^(?:{_ATEXT}+(?:\.{_ATEXT}+)*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}})?$"
"""An email address (or nothing: "" means not given) in the plain ASCII form every mail system
takes; everything it matches, email-validator accepts unless EMAIL_NOT matches too."""

EMAIL_MAX_LENGTH = 254
"""The longest address SMTP carries (RFC 5321's path limit less its angle brackets)."""

EMAIL_NOT = (
    r"^[^@]{65}|@.*[A-Za-z0-9-]{64}|\.(?:[Aa][Rr][Pp][Aa]|[Ii][Nn][Vv][Aa][Ll][Ii][Dd]"
    r"|[Ll][Oo][Cc][Aa][Ll](?:[Hh][Oo][Ss][Tt])?|[Oo][Nn][Ii][Oo][Nn]|[Tt][Ee][Ss][Tt])$"
)
"""What email-validator still refuses among EMAIL_PATTERN's matches: a local part over 64
characters, a domain label over 63, a special-use top-level domain (RFC 6761)."""


def email_schema(schema: dict[str, Any]) -> None:
    """json_schema_extra for a field with EMAIL_PATTERN: the document also says EMAIL_NOT."""
    target = schema
    for branch in schema.get("anyOf", []):  # `str | None`: the string branch
        if branch.get("type") == "string":
            target = branch
    target["not"] = {"pattern": EMAIL_NOT}


NOT_BLANK = r"[^\s\x1c-\x1f\x85]"
"""A pattern for text that is more than blanks: something str.strip leaves (it also strips
U+001C..U+001F and U+0085, which not every regex \\s has)."""
