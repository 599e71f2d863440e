"""Intake's wiring: settings, routes, consumers, in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import Field

from atiende_runtime.service import build_app
from atiende_runtime.settings import Settings

from .api import routers
from .consumers import consumers


class IntakeSettings(Settings):
    service_name: str = "intake"
    join_window_days: int = Field(
        default=30,
        ge=0,
        description="A repeat complaint joins the customer's open case with the same motive opened "
        "within this many days",
    )
    default_motive: str = Field(
        default="OTHER",
        pattern=r"^[A-Z0-9][A-Z0-9_-]{0,39}$",
        description="Motive of a case opened without one (e.g. from an email), until triage "
        "reclassifies it; must be an active catalogue motive",
    )


def settings(**overrides: Any) -> IntakeSettings:
    return IntakeSettings(**overrides)


def create_app(config: IntakeSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_intake",
        title="Atiende intake",
        routers=routers,
        consumers=consumers,
    )
