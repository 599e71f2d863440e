"""Surveys' composition root: its routes and consumers, built into one app. Nothing imports
this module; the `atiende.services` entry point names `service`."""

from __future__ import annotations

from fastapi import FastAPI

from atiende_contracts import SurveyAnswered, SurveyInvited
from atiende_runtime.service import build_app
from atiende_runtime.services import ServiceDefinition

from .entrypoints.consumers import consumers
from .entrypoints.http import invitations
from .entrypoints.pages import survey
from .settings import SurveysSettings

PUBLISHES = (SurveyInvited, SurveyAnswered)
"""Every event surveys emits (its unit of work refuses any other)."""


def create_app(config: SurveysSettings | None = None) -> FastAPI:
    return build_app(
        config or SurveysSettings(),
        package="atiende_surveys",
        title="Atiende surveys",
        routers=[survey.router, invitations.router],
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
