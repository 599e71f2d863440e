"""Routing's wiring: settings, routes, consumers, in one place."""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI

from atiende_contracts import CaseAssigned, CaseResolved
from atiende_runtime.service import build_app
from atiende_runtime.services import ServiceDefinition
from atiende_runtime.settings import Settings

from .api import router
from .consumers import consumers


class RoutingSettings(Settings):
    default_port: ClassVar[int] = 8002

    service_name: str = "routing"
    default_team: str = "general"


def settings(**overrides: Any) -> RoutingSettings:
    return RoutingSettings(**overrides)


PUBLISHES = (CaseAssigned, CaseResolved)
"""Every event routing emits (its unit of work refuses any other)."""


def create_app(config: RoutingSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_routing",
        title="Atiende routing",
        routers=[router],
        consumers=consumers,
        publishes=PUBLISHES,
    )


service = ServiceDefinition(
    name="routing",
    package="atiende_routing",
    settings=RoutingSettings,
    create_app=create_app,
    consumers=consumers,
    publishes=PUBLISHES,
)
