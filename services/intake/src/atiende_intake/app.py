"""Intake's wiring: settings, routes, consumers, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from atiende_runtime.service import build_app
from atiende_runtime.settings import Settings

from .api import router
from .consumers import consumers


class IntakeSettings(Settings):
    service_name: str = "intake"


def settings(**overrides: Any) -> IntakeSettings:
    return IntakeSettings(**overrides)


def create_app(config: IntakeSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_intake",
        title="Atiende intake",
        routers=[router],
        consumers=consumers,
    )
