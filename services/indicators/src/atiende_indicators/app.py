"""Indicators' composition root: settings, routes and the consumer put together. Nothing imports
this module; the `atiende.services` entry point in pyproject.toml names `service`."""

from __future__ import annotations

from fastapi import FastAPI

from atiende_contracts import EventData
from atiende_runtime.service import build_app
from atiende_runtime.services import ServiceDefinition

from .entrypoints.consumers import consumers
from .entrypoints.http import ROUTERS
from .settings import IndicatorsSettings

PUBLISHES: tuple[type[EventData], ...] = ()
"""Every event indicators emits (its unit of work refuses any other): none."""


def create_app(config: IndicatorsSettings | None = None) -> FastAPI:
    return build_app(
        config or IndicatorsSettings(),
        package="atiende_indicators",
        title="Atiende indicators",
        routers=ROUTERS,
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
