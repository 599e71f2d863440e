"""Indicators' wiring: settings, routes, consumers, in one place."""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI

from atiende_runtime.service import build_app
from atiende_runtime.services import ServiceDefinition
from atiende_runtime.settings import Settings

from .api import router
from .consumers import consumers


class IndicatorsSettings(Settings):
    default_port: ClassVar[int] = 8005

    service_name: str = "indicators"


def settings(**overrides: Any) -> IndicatorsSettings:
    return IndicatorsSettings(**overrides)


PUBLISHES = ()
"""Every event indicators emits (its unit of work refuses any other)."""


def create_app(config: IndicatorsSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_indicators",
        title="Atiende indicators",
        routers=[router],
        consumers=consumers,
        publishes=PUBLISHES,
    )


service = ServiceDefinition(
    name="indicators",
    package="atiende_indicators",
    settings=IndicatorsSettings,
    create_app=create_app,
    consumers=consumers,
    publishes=PUBLISHES,
)
