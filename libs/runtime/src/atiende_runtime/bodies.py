"""Request bodies as strict as the OpenAPI documents that describe them.

FastAPI validates a JSON body in pydantic's python mode, where lax coercion turns `0` into
`false`, `false` into `0.0` and `"7"` into `7`, while the document says `boolean`, `number`,
`integer`. pydantic's `strict=True` would refuse those, but in python mode it also refuses an
ISO date-time or a UUID given as text, which JSON can only send as text. `RequestModel` is
strict exactly where JSON has the type itself: every `bool`, `int` and `float` in its fields
(inside unions, lists, dicts and `Annotated` alike) becomes strict, a plain `datetime` or
`date` becomes params.py's `IsoDateTime`/`IsoDate` (RFC 3339 text, as `format: date-time` and
`format: date` say; never a number), and everything else keeps its own validation. A strict
`float` still takes an integer, as JSON Schema's `number` does, and an `int` still takes
`5.0`, which JSON Schema's `integer` counts as an integer (not `5.5`, nor `true` nor `"5"`).

Every model a route reads as its body, and every model nested in one, derives from it; a test
in tests/architecture walks the five services' routes and fails for one that does not.
"""

from __future__ import annotations

import types
import typing
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Strict
from pydantic_core import PydanticCustomError

from .params import IsoDate, IsoDateTime


def _json_integer(value: Any) -> Any:
    # bool is an int too; a fraction fails in int's own check
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 5.0, or 4e114, which the lax check would call not an integer
    return value


_STRICT: dict[Any, Any] = {
    bool: Annotated[bool, Strict()],
    int: Annotated[int, BeforeValidator(_json_integer)],
    float: Annotated[float, Strict()],
}
_CONTAINERS = (list, set, frozenset, tuple, dict, typing.Union, types.UnionType)


def strict_scalars(annotation: Any) -> Any:
    """`annotation` with every bool, int and float leaf strict and every plain date-time and date
    RFC 3339 text only; anything else unchanged."""
    if annotation in _STRICT:
        return _STRICT[annotation]
    if annotation is datetime:
        return IsoDateTime
    if annotation is date:
        return IsoDate
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = typing.get_args(annotation)
        stricter = strict_scalars(inner)
        if stricter is inner:
            return annotation
        if typing.get_origin(stricter) is Annotated:  # the added check wraps the constraints
            base, *added = typing.get_args(stricter)
            return Annotated[(base, *metadata, *added)]
        return Annotated[(stricter, *metadata)]
    if origin not in _CONTAINERS:
        return annotation
    args = typing.get_args(annotation)
    stricter_args = tuple(strict_scalars(a) for a in args)
    if all(new is old for new, old in zip(stricter_args, args, strict=True)):
        return annotation
    if origin in (typing.Union, types.UnionType):
        return typing.Union[stricter_args]  # noqa: UP007 - built from a tuple
    return origin[stricter_args]


def _optional_scalar(annotation: Any) -> Any:
    """The strict scalar of `X | None`, if that is what `annotation` is."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    members = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(members) != 1 or len(members) == len(typing.get_args(annotation)):
        return None
    return members[0] if typing.get_origin(members[0]) is Annotated else None


class RequestModel(BaseModel):
    """The base of every request body (and of every model inside one)."""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for field in cls.__pydantic_fields__.values():
            stricter = strict_scalars(field.annotation)
            if stricter is field.annotation:
                continue
            if typing.get_origin(stricter) is Annotated:
                # a bare scalar: its check wraps the field's own constraints (so they stay in the schema)
                field.annotation, *metadata = typing.get_args(stricter)
                field.metadata = [*field.metadata, *metadata]
            elif field.metadata and _optional_scalar(stricter):
                # `int | None = Field(ge=1)`: the constraints go on the scalar, inside its check
                base, *added = typing.get_args(_optional_scalar(stricter))
                constrained: Any = Annotated[(base, *field.metadata, *added)]
                field.annotation = constrained | None
                field.metadata = []
            else:
                field.annotation = stricter
            changed = True
        if changed:
            cls.model_rebuild(force=True)
