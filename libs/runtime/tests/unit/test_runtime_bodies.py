from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError

from atiende_runtime.bodies import RequestModel


class Inner(RequestModel):
    count: int | None = None
    on: bool = False


class Body(RequestModel):
    ratio: float | None = Field(None, ge=0)
    count: Annotated[int, Field(ge=0)] = 0
    days: int | None = Field(None, ge=1, le=30)
    on: bool = False
    counts: list[int] = []
    weights: dict[str, float] = {}
    at: datetime | None = None
    day: date | None = None
    ref: uuid.UUID | None = None
    inner: Inner | None = None
    inners: list[Inner] = []


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"ratio": False}, "float_type"),
        ({"ratio": "1.5"}, "float_type"),
        ({"ratio": -1}, "greater_than_equal"),
        ({"count": True}, "int_type"),
        ({"count": "7"}, "int_type"),
        ({"count": 1.5}, "int_from_float"),
        ({"count": -1}, "greater_than_equal"),
        ({"days": 0}, "greater_than_equal"),
        ({"days": True}, "int_type"),
        ({"on": 0}, "bool_type"),
        ({"on": "true"}, "bool_type"),
        ({"counts": [True]}, "int_type"),
        ({"weights": {"a": False}}, "float_type"),
        ({"at": 0}, "value_error"),
        ({"at": "2026-11-24T10:00:00"}, "value_error"),
        ({"day": 0}, "value_error"),
        ({"inner": {"count": False}}, "int_type"),
        ({"inners": [{"on": 1}]}, "bool_type"),
    ],
)
def test_json_types_are_not_coerced(body: dict[str, Any], rule: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Body.model_validate(body)
    assert [e["type"] for e in raised.value.errors()] == [rule]


def test_what_json_sends_as_it_should_is_read() -> None:
    ref = uuid.uuid4()
    body = Body.model_validate(
        {
            "ratio": 1,
            "count": 3,
            "on": True,
            "counts": [1, 2.0, 4e20],
            "weights": {"a": 0.5},
            "at": "2026-11-24T10:00:00Z",
            "day": "2026-11-24",
            "ref": str(ref),
            "inner": {"count": 2},
        }
    )
    assert isinstance(body.ratio, float)
    assert body.ratio == 1.0
    assert body.counts == [1, 2, 4 * 10**20]
    assert body.at == datetime.fromisoformat("2026-11-24T10:00:00+00:00")
    assert body.day == date(2026, 11, 24)
    assert body.ref == ref
    assert body.inner == Inner(count=2)


def test_the_document_still_states_the_constraints() -> None:
    schema = Body.model_json_schema()["properties"]
    assert schema["count"] == {"default": 0, "minimum": 0, "title": "Count", "type": "integer"}
    assert schema["days"]["anyOf"][0] == {"maximum": 30, "minimum": 1, "type": "integer"}
    assert schema["ratio"]["anyOf"][0] == {"minimum": 0, "type": "number"}
    assert schema["at"]["anyOf"][0] == {"format": "date-time", "type": "string"}
