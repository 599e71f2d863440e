"""Indicators' wiring: settings, routes, consumers, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from atiende_runtime.service import build_app
from atiende_runtime.settings import Settings

from .api import router
from .consumers import consumers


class IndicatorsSettings(Settings):
    service_name: str = "indicators"


def settings(**overrides: Any) -> IndicatorsSettings:
    return IndicatorsSettings(**overrides)


def create_app(config: IndicatorsSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_indicators",
        title="Atiende indicators",
        routers=[router],
        consumers=consumers,
    )
