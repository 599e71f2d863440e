"""Routing's composition root: settings, routes and consumers put together. Nothing imports this
module; the `atiende.services` entry point in pyproject.toml names `service`."""

from __future__ import annotations

from fastapi import FastAPI

from atiende_contracts import (
    AgentChanged,
    CaseAssigned,
    CaseResolved,
    RoutingRuleChanged,
    TeamChanged,
)
from atiende_runtime.service import build_app
from atiende_runtime.services import ServiceDefinition

from .entrypoints.consumers import consumers
from .entrypoints.http import ROUTERS
from .settings import RoutingSettings

PUBLISHES = (CaseAssigned, CaseResolved, TeamChanged, AgentChanged, RoutingRuleChanged)
"""Every event routing emits (its unit of work refuses any other)."""


def create_app(config: RoutingSettings | None = None) -> FastAPI:
    return build_app(
        config or RoutingSettings(),
        package="atiende_routing",
        title="Atiende routing",
        routers=ROUTERS,
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
