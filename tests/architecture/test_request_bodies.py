"""Every model a route reads from a request body, and every model nested in one, derives from
atiende_runtime.bodies.RequestModel, so its booleans and numbers are as strict as the OpenAPI
document says (`0` is not `false`, `false` is not `0.0`, a number is not a date-time). A route
added later with a plain BaseModel body fails here."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from atiende_runtime.bodies import RequestModel
from atiende_runtime.services import services


def models_in(annotation: Any, found: set[type[BaseModel]]) -> set[type[BaseModel]]:
    for arg in typing.get_args(annotation):
        models_in(arg, found)
    is_model = inspect.isclass(annotation) and issubclass(annotation, BaseModel)
    if is_model and annotation not in found:
        found.add(annotation)
        for field in annotation.model_fields.values():
            models_in(field.annotation, found)
    return found


@pytest.mark.parametrize("name", list(services()))
def test_every_request_body_is_a_request_model(name: str) -> None:
    definition = services()[name]
    app = definition.create_app(definition.settings(jwt_secret="x" * 32))
    bodies: set[type[BaseModel]] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.body_field is not None:
            models_in(route.body_field.field_info.annotation, bodies)
    lax = sorted(
        f"{m.__module__}.{m.__qualname__}" for m in bodies if not issubclass(m, RequestModel)
    )
    assert lax == []
