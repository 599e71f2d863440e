"""Surveys' wiring: settings, routes, consumers, in one place."""

from __future__ import annotations

from typing import Any, ClassVar

from fastapi import FastAPI
from pydantic import Field

from atiende_contracts import SurveyAnswered, SurveyInvited
from atiende_runtime.service import build_app
from atiende_runtime.services import ServiceDefinition
from atiende_runtime.settings import Settings

from .api import router
from .consumers import consumers


class SurveysSettings(Settings):
    default_port: ClassVar[int] = 8003

    service_name: str = "surveys"
    survey_base_url: str = Field(
        default="http://127.0.0.1:8003",
        pattern=r"^https?://[^\s?#]+$",
        description="Public base URL of the survey pages, used in the links sent to customers",
    )
    survey_ttl_days: int = Field(default=14, ge=1, description="Days a survey link stays open")


def settings(**overrides: Any) -> SurveysSettings:
    return SurveysSettings(**overrides)


PUBLISHES = (SurveyInvited, SurveyAnswered)
"""Every event surveys emits (its unit of work refuses any other)."""


def create_app(config: SurveysSettings | None = None) -> FastAPI:
    return build_app(
        config or settings(),
        package="atiende_surveys",
        title="Atiende surveys",
        routers=[router],
        consumers=consumers,
        publishes=PUBLISHES,
    )


service = ServiceDefinition(
    name="surveys",
    package="atiende_surveys",
    settings=SurveysSettings,
    create_app=create_app,
    consumers=consumers,
    publishes=PUBLISHES,
)
