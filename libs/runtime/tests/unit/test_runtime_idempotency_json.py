"""`idempotency.as_json` is a faster `jsonable_encoder` for pydantic models: it must give the very
same JSON, or a key stored before it would no longer match its retry (a 422 instead of a replay)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from atiende_runtime.idempotency import as_json, fingerprint


class Colour(StrEnum):
    RED = "red"


class Inner(BaseModel):
    at: datetime
    on: date
    amount: Decimal
    colour: Colour


class Outer(BaseModel):
    id: uuid.UUID
    renamed: str = Field(alias="shownAs")
    inner: Inner
    many: list[Inner]
    extra: dict[str, Any]
    nothing: str | None = None


def sample() -> Outer:
    inner = Inner(
        at=datetime(2026, 11, 30, 6, 0, tzinfo=UTC),
        on=date(2026, 11, 30),
        amount=Decimal("12.50"),
        colour=Colour.RED,
    )
    return Outer(
        id=uuid.UUID(int=7),
        shownAs="Ñandú",
        inner=inner,
        many=[inner, inner],
        extra={"n": 1.5, "flag": True, "list": [1, "two"]},
    )


def test_as_json_of_a_model_is_what_jsonable_encoder_makes_of_it() -> None:
    model = sample()

    assert as_json(model) == jsonable_encoder(model)
    assert as_json(model)["shownAs"] == "Ñandú"  # by alias, as jsonable_encoder does


def test_as_json_of_anything_else_is_jsonable_encoder() -> None:
    value = {"path": {"case_id": uuid.UUID(int=1)}, "when": date(2026, 1, 2)}

    assert as_json(value) == jsonable_encoder(value)


def test_a_fingerprint_is_the_one_keys_were_stored_with() -> None:
    model = sample()
    before = hashlib.sha256(
        json.dumps(jsonable_encoder(model), sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()

    assert fingerprint(model) == before
