"""Routing's wiring: settings, routes, consumers, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from atiende_runtime.service import build_app
from atiende_runtime.settings import Settings

from .api import router
from .consumers import consumers


class RoutingSettings(Settings):
    service_name: str = "routing"
    default_team: str = "general"


def settings(**overrides: Any) -> RoutingSettings:
    return RoutingSettings(**overrides)


def create_app(config: RoutingSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_routing",
        title="Atiende routing",
        routers=[router],
        consumers=consumers,
    )
